"""Pings that need Auth0, carried through an SQS FIFO queue: one buyer's events in order, never twice at once."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ServiceError, UpstreamUnavailable
from chalicelib.logs import log_event
from chalicelib.purchases.gumroad import ProductKeys, SaleEvent, SubscriptionEvent

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, SendMessageRequestTypeDef

log = logging.getLogger("gumroad_auth0.queue")

MESSAGE_VERSION = 1
# Message attribute set on messages an operator puts (back) into the queue: a redriven dead letter, a
# re-run, a backfilled sale. Their receive count starts again at 1, so the attribute is what tells the
# worker that an earlier attempt may have stopped half-way and the buyer's roles must be re-read.
REDRIVEN_ATTRIBUTE = "redriven"
QueuedEvent = SaleEvent | SubscriptionEvent


class MalformedMessage(ServiceError):
    """A queue message this version of the service cannot read: dead-lettered, never retried."""

    code = "malformed_message"


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


def redriven_attributes() -> dict[str, MessageAttributeValueTypeDef]:
    """The ``MessageAttributes`` of a message an operator puts into the queue (see REDRIVEN_ATTRIBUTE)."""
    return {REDRIVEN_ATTRIBUTE: {"DataType": "String", "StringValue": "true"}}


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


class PingQueue:
    """Sends work to the FIFO queue; an SQS failure is a 503 so that Gumroad redelivers."""

    def __init__(self, *, client_factory: Callable[[], SQSClient], queue_url: str) -> None:
        self._client_factory = client_factory
        self._client: SQSClient | None = None
        self._queue_url = queue_url

    def enqueue(self, event: QueuedEvent, *, redriven: bool = False) -> str:
        """Queue ``event`` in its buyer's group; ``redriven`` for events an operator command sends."""
        from botocore.exceptions import BotoCoreError, ClientError

        if self._client is None:
            self._client = self._client_factory()
        message: SendMessageRequestTypeDef = {
            "QueueUrl": self._queue_url,
            "MessageBody": encode_event(event),
            "MessageGroupId": group_id(event),
            "MessageDeduplicationId": deduplication_id(event),
        }
        if redriven:
            message["MessageAttributes"] = redriven_attributes()
        try:
            answer = self._client.send_message(**message)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            log_event(log, logging.ERROR, "ping_not_queued", aws_error=code)
            raise UpstreamUnavailable(f"the ping could not be queued ({code})") from None
        except BotoCoreError as exc:
            raise UpstreamUnavailable(f"the ping could not be queued ({type(exc).__name__})") from None
        return str(answer.get("MessageId", ""))


class DeadLetters:
    """Puts a message the worker can never process into the dead-letter queue, with the reason."""

    def __init__(self, *, client_factory: Callable[[], SQSClient], queue_url: str) -> None:
        self._client_factory = client_factory
        self._client: SQSClient | None = None
        self._queue_url = queue_url

    def send(self, *, body: str, message_id: str, reason: str, group: str | None = None) -> None:
        if self._client is None:
            self._client = self._client_factory()
        attributes: dict[str, Any] = {
            "reason": {"DataType": "String", "StringValue": reason[:1000]},
            "original_message_id": {"DataType": "String", "StringValue": message_id or "unknown"},
        }
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageGroupId=group or "dead-letters",
            MessageDeduplicationId=hashlib.sha256(f"{message_id}|{body}".encode()).hexdigest(),
            MessageAttributes=attributes,
        )


class Visibility:
    """Delays a message's next delivery: the backoff between attempts of a transient failure."""

    def __init__(self, *, client_factory: Callable[[], SQSClient], queue_url: str) -> None:
        self._client_factory = client_factory
        self._client: SQSClient | None = None
        self._queue_url = queue_url

    def delay(self, receipt_handle: str, seconds: int) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._client is None:
            self._client = self._client_factory()
        try:
            self._client.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (BotoCoreError, ClientError) as exc:
            # The queue's own visibility timeout still brings the message back: only the backoff is lost.
            log_event(log, logging.WARNING, "retry_delay_failed", error=type(exc).__name__)
