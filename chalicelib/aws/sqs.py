"""SQS through boto3: the FIFO queue pings go to, its dead-letter queue, and a message's next delivery."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from chalicelib.errors import UpstreamUnavailable
from chalicelib.logs import log_event
from chalicelib.purchases.queue import REDRIVEN_ATTRIBUTE, QueuedEvent, deduplication_id, encode_event, group_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, SendMessageRequestTypeDef

log = logging.getLogger("gumroad_auth0.queue")


def redriven_attributes() -> dict[str, MessageAttributeValueTypeDef]:
    """The ``MessageAttributes`` of a message an operator puts into the queue (see REDRIVEN_ATTRIBUTE)."""
    return {REDRIVEN_ATTRIBUTE: {"DataType": "String", "StringValue": "true"}}


def sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs")


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
