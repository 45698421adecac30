"""One structured JSON log line per ping: what happened, never who paid with what secret."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger("gumroad_auth0.ping")


def mask_email(email: str | None) -> str | None:
    """``customer@example.com`` -> ``c***r@example.com``: enough for support to match, not to harvest."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}***@{domain}"
    return f"{local[0]}***{local[-1]}@{domain}"


@dataclass
class PingLogLine:
    source: str = "ping"  # "ping" (the HTTP route) or "worker" (the queue)
    status: int = 0
    outcome: str | None = None
    reason: str | None = None
    error: str | None = None
    detail: str | None = None
    resource: str | None = None
    seller_id: str | None = None
    sale_id: str | None = None
    subscription_id: str | None = None
    product_id: str | None = None
    course: str | None = None
    buyer: str | None = None
    retry_count: int | None = None
    changes: list[str] | None = None
    auth0_calls: int = 0
    auth0_throttled: int = 0
    duration_ms: float = 0.0

    def emit(self) -> None:
        record: dict[str, Any] = {"message": "gumroad ping"}
        record.update({key: value for key, value in asdict(self).items() if value is not None})
        level = logging.INFO if self.status < 500 else logging.ERROR
        log.log(level, json.dumps(record, separators=(",", ":")))


def configure_logging() -> None:
    """Make the service's INFO lines visible under Lambda and ``chalice local`` alike."""
    logger = logging.getLogger("gumroad_auth0")
    logger.setLevel(logging.INFO)
    # httpx logs every request's full URL at INFO: for users-by-email that is the buyer's address.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    root = logging.getLogger()
    if not root.handlers and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
