"""The dead-letter queue: what is in it and why, putting it back, and re-running one sale by hand."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.aws.sqs import redriven_attributes
from chalicelib.errors import MalformedMessage, ServiceError
from chalicelib.logs import mask_email
from chalicelib.purchases.fulfilment import Outcome
from chalicelib.purchases.queue import QueuedEvent, decode_event, group_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_sqs import SQSClient

PEEK_BATCH = 10


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    body: str
    reason: str
    sent_at: float | None
    event: QueuedEvent | None

    def summary(self) -> dict[str, Any]:
        line: dict[str, Any] = {"message_id": self.message_id, "reason": self.reason}
        if self.sent_at is not None:
            line["age_minutes"] = round((time.time() - self.sent_at) / 60, 1)
        if self.event is not None:
            line["event"] = self.event.event_name
            line["buyer"] = mask_email(self.event.email)
            line["sale_id"] = getattr(self.event, "sale_id", None)
            line["subscription_id"] = self.event.subscription_id
        return line


def read_all(sqs: SQSClient, queue_url: str, *, limit: int = 1000) -> list[DeadLetter]:
    """Every message in the dead-letter queue, left in place (visibility is given back at once)."""
    letters: dict[str, DeadLetter] = {}
    handles: list[str] = []
    for message in _receive(sqs, queue_url, limit=limit):
        handles.append(message["ReceiptHandle"])
        if message["MessageId"] in letters:
            continue
        try:
            event: QueuedEvent | None = decode_event(message["Body"])
        except MalformedMessage:
            event = None
        attributes = message.get("MessageAttributes", {})
        sent = message.get("Attributes", {}).get("SentTimestamp")
        letters[message["MessageId"]] = DeadLetter(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message["Body"],
            reason=attributes.get("reason", {}).get("StringValue", "exhausted its retries (redrive policy)"),
            sent_at=int(sent) / 1000 if sent else None,
            event=event,
        )
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return list(letters.values())


def redrive(sqs: SQSClient, *, dead_letter_url: str, queue_url: str, apply: bool) -> list[dict[str, Any]]:
    """Move readable dead letters back to the work queue, in their buyer's FIFO group."""
    report = []
    for letter in read_all(sqs, dead_letter_url):
        line = letter.summary()
        if letter.event is None:
            line["action"] = "kept: unreadable, fix or delete it by hand"
        elif not apply:
            line["action"] = "would move back (dry run; add --apply)"
        else:
            _send_back(sqs, queue_url, letter, letter.event)
            _delete(sqs, dead_letter_url, letter.message_id)
            line["action"] = "moved back"
        report.append(line)
    return report


def rerun(
    sqs: SQSClient,
    *,
    dead_letter_url: str,
    sale_id: str,
    fulfil: Callable[[QueuedEvent], Outcome],
    apply: bool,
    queue_url: str | None = None,
) -> list[dict[str, Any]]:
    """Re-run the dead letters of one sale, re-reading roles instead of trusting records.

    With a work queue (``queue_url``), each goes back into its buyer's FIFO group, marked as
    redriven, and the worker processes it: an operator command never writes to Auth0 beside the
    worker, which may be processing another event of the same buyer at that moment. Without one (a local
    setup), ``fulfil`` processes it right here.
    """
    report = []
    for letter in read_all(sqs, dead_letter_url):
        if letter.event is None or getattr(letter.event, "sale_id", None) != sale_id:
            continue
        line = letter.summary()
        if not apply:
            line["action"] = "would re-run (dry run; add --apply)"
        elif queue_url is not None:
            _send_back(sqs, queue_url, letter, letter.event)
            _delete(sqs, dead_letter_url, letter.message_id)
            line["action"] = "queued for the worker (it re-reads the buyer's roles)"
        else:
            try:
                outcome = fulfil(letter.event)
            except ServiceError as error:
                line["action"] = f"failed again: {error.code}: {error.message}"
            else:
                _delete(sqs, dead_letter_url, letter.message_id)
                line["action"] = "re-run"
                line["outcome"] = outcome.to_json()
        report.append(line)
    return report


def _send_back(sqs: SQSClient, queue_url: str, letter: DeadLetter, event: QueuedEvent) -> None:
    """Put a dead letter back into the work queue, in its buyer's FIFO group, marked as redriven."""
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=letter.body,
        MessageGroupId=group_id(event),
        # A fresh id: the original may still be inside SQS's five-minute deduplication window.
        MessageDeduplicationId=hashlib.sha256(f"redrive|{letter.message_id}|{time.time()}".encode()).hexdigest(),
        # SQS counts receives afresh for the new message: only this attribute tells the worker that an
        # earlier attempt may have stopped half-way, so that it re-reads the buyer's roles.
        MessageAttributes=redriven_attributes(),
    )


def _receive(sqs: SQSClient, queue_url: str, *, limit: int) -> Iterator[Any]:
    seen = 0
    while seen < limit:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=PEEK_BATCH,
            VisibilityTimeout=30,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = answer.get("Messages", [])
        if not messages:
            return
        seen += len(messages)
        yield from messages


def _delete(sqs: SQSClient, queue_url: str, message_id: str) -> None:
    # Receipt handles change with every receive: find the message again and delete that delivery.
    for message in _receive(sqs, queue_url, limit=1000):
        if message["MessageId"] == message_id:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )


def as_text(report: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(line, sort_keys=True) for line in report) or "(nothing)"
