"""One structured JSON log line per ping: what happened, never who paid with what secret."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass

from chalicelib.logs import log_event
from chalicelib.purchases.gumroad import RESOURCE_NAMES

log = logging.getLogger("gumroad_auth0.ping")

# What a field of a ping that does not have the shape Gumroad gives it is logged as.
MASKED = "<masked>"
# Gumroad's sale, seller, product and subscription ids: ObfuscateIds.encrypt, 16 bytes in URL-safe base64.
_GUMROAD_ID = re.compile(r"[A-Za-z0-9_-]{22}==")
# The settings-page test ping has no resource name; the service calls it "test".
_KNOWN_RESOURCES = frozenset((*RESOURCE_NAMES, "test"))


def loggable_id(value: str | None) -> str | None:
    """A Gumroad id as it is; anything else (an address pasted into ``sale_id``, ...) as ``<masked>``."""
    if value is None:
        return None
    return value if _GUMROAD_ID.fullmatch(value) else MASKED


def loggable_resource(value: str | None) -> str | None:
    """One of Gumroad's resource names as it is; any other text as ``<masked>``."""
    if value is None:
        return None
    return value if value in _KNOWN_RESOURCES else MASKED


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
        """Log the line; the ping's own fields only when they have Gumroad's shape, else masked."""
        fields = asdict(self)
        fields["resource"] = loggable_resource(self.resource)
        for name in ("seller_id", "sale_id", "subscription_id", "product_id"):
            fields[name] = loggable_id(fields[name])
        level = logging.INFO if self.status < 500 else logging.ERROR
        log_event(log, level, fields.pop("event"), **fields)
