"""One structured JSON log line per ping: what happened, never who paid with what secret."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from chalicelib.logs import log_event

log = logging.getLogger("gumroad_auth0.ping")


@dataclass
class PingLogLine:
    event: str = "ping_answered"  # "ping_answered" (the HTTP route) or "ping_processed" (the queue worker)
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
    origin: str | None = None  # "reconciliation" for an event read from the Sales API (pings: left out)
    changes: list[str] | None = None
    auth0_calls: int = 0
    auth0_throttled: int = 0
    duration_ms: float = 0.0

    def emit(self) -> None:
        fields = asdict(self)
        level = logging.INFO if self.status < 500 else logging.ERROR
        log_event(log, level, fields.pop("event"), **fields)
