"""The service's one log shape (a JSON object per line: level, timestamp, logger, event, then fields) and what
may go into it: masked addresses, and where an unexpected exception came from without its message."""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from typing import Any

SERVICE_LOGGER = "gumroad_auth0"
# Compiled on first use (re keeps it): only the purchase path and ops mask URLs.
_URL_USERINFO = r"(?i)(https?://[^/@\s:]*:)[^@\s/]*@"


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Write one line ``{"level", "timestamp", "logger", "event", ...fields}``; fields that are None are left out.

    Callers pass codes, counts, masked addresses and ids: never a secret, a token, a password, a
    full e-mail address or a URL with a query string.
    """
    if not logger.isEnabledFor(level):
        return
    record: dict[str, Any] = {
        "level": logging.getLevelName(level).lower(),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "logger": logger.name,
        "event": event,
    }
    record.update((name, value) for name, value in fields.items() if value is not None)
    logger.log(level, json.dumps(record, separators=(",", ":"), default=str))


def configure_logging() -> None:
    """Make the service's INFO lines visible under Lambda and ``chalice local`` alike."""
    logger = logging.getLogger(SERVICE_LOGGER)
    logger.setLevel(logging.INFO)
    # httpx logs every request's full URL at INFO: for users-by-email that is the buyer's address.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    root = logging.getLogger()
    if not root.handlers and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)


def mask_email(email: str | None) -> str | None:
    """``customer@example.com`` -> ``c***r@example.com``: enough for support to match, not to harvest."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}***@{domain}"
    return f"{local[0]}***{local[-1]}@{domain}"


def mask_url_passwords(text: str) -> str:
    """Hide the password of every ``https://user:password@host`` in ``text`` (``https://user:***@host``).

    Gumroad echoes the post URL in some error messages (``Invalid post URL '...'``), and the service's
    post URL carries the ping secret.
    """
    return re.sub(_URL_USERINFO, r"\1***@", text)


def describe_failure(error: BaseException) -> str:
    """``TypeError at chalicelib/x.py:12 in f``: where an unexpected exception came from, without its message.

    Exception messages may quote the request (an address, a token), so logs name the type and the
    innermost frame of the service's own code only.
    """
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    where = ([frame for frame in frames if "/chalicelib/" in frame.filename] or frames)[-1]
    path = where.filename
    short = "chalicelib/" + path.rsplit("/chalicelib/", 1)[1] if "/chalicelib/" in path else path.rsplit("/", 1)[-1]
    return f"{type(error).__name__} at {short}:{where.lineno} in {where.name}"
