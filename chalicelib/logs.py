"""The service's one log shape: a JSON object per line with level, timestamp, logger, event, then fields."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

SERVICE_LOGGER = "gumroad_auth0"


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
