"""Queue messages: a ping's event as JSON, its FIFO group (the buyer) and its deduplication id (the event)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from chalicelib.errors import MalformedMessage
from chalicelib.purchases.events import ProductKeys, SaleEvent, SubscriptionEvent

MESSAGE_VERSION = 1
# Message attribute set on messages an operator puts (back) into the queue: a redriven dead letter, a
# re-run, a backfilled sale. Their receive count starts again at 1, so the attribute is what tells the
# worker that an earlier attempt may have stopped half-way and the buyer's roles must be re-read.
REDRIVEN_ATTRIBUTE = "redriven"
QueuedEvent = SaleEvent | SubscriptionEvent


def encode_event(event: QueuedEvent) -> str:
    kind = "sale" if isinstance(event, SaleEvent) else "subscription"
    return json.dumps({"v": MESSAGE_VERSION, "kind": kind, "event": asdict(event)}, separators=(",", ":"))


def decode_event(body: str) -> QueuedEvent:
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, RecursionError, TypeError) as exc:
        raise MalformedMessage("the message is not JSON") from exc
    if not isinstance(document, dict) or document.get("v") != MESSAGE_VERSION:
        raise MalformedMessage(f"the message is not a version {MESSAGE_VERSION} ping")
    fields = document.get("event")
    kind = document.get("kind")
    if not isinstance(fields, dict) or not isinstance(fields.get("product"), dict):
        raise MalformedMessage("the message has no event")
    try:
        product = ProductKeys(**fields.pop("product"))
        if kind == "sale":
            fields["shadowed_keys"] = tuple(fields.get("shadowed_keys", ()))
            return _checked(SaleEvent(product=product, **fields))
        if kind == "subscription":
            fields["purchase_ids"] = tuple(fields.get("purchase_ids", ()))
            return _checked(SubscriptionEvent(product=product, **fields))
    except TypeError as exc:
        raise MalformedMessage("the event's fields do not match this version") from exc
    raise MalformedMessage(f"unknown event kind {str(kind)[:32]!r}")


def _checked(event: QueuedEvent) -> QueuedEvent:
    required = (event.sale_id, event.email) if isinstance(event, SaleEvent) else (event.subscription_id, event.email)
    if not all(isinstance(value, str) and value for value in required):
        raise MalformedMessage("the event lacks its identity or buyer")
    return event


def group_id(event: QueuedEvent) -> str:
    """The buyer: FIFO delivers one group's messages in order and one at a time.

    Hashed, so that addresses never show in SQS metrics or consoles.
    """
    return "buyer-" + hashlib.sha256(event.email.encode("utf-8")).hexdigest()[:40]


def deduplication_id(event: QueuedEvent) -> str:
    """The event's identity: (sale_id, resource_name), or (subscription_id, resource_name, time)."""
    if isinstance(event, SaleEvent):
        identity = f"sale|{event.sale_id}|{event.event_name}"
    else:
        identity = f"subscription|{event.subscription_id}|{event.resource_name}|{event.occurred_at or ''}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()
