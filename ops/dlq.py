"""`ops dlq show|redrive`: what is in the dead-letter queue and why, and putting it back into the work queue."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.aws.sqs import redriven_attributes
from chalicelib.errors import MalformedMessage
from chalicelib.logs import mask_email
from chalicelib.purchases.queue import QueuedEvent, decode_event, group_id

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from ops.settings import Settings

PEEK_BATCH = 10


def add_dlq(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = commands.add_parser("dlq", help="the dead-letter queue of pings the worker could not process")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    show = dlq_commands.add_parser("show", help="list dead letters with their reason (changes nothing)")
    show.set_defaults(run=run_show)
    move = dlq_commands.add_parser("redrive", help="move dead letters back to the work queue")
    move.add_argument("--apply", action="store_true", help="really move them (default: dry run)")
    move.set_defaults(run=run_redrive)


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    from ops import aws

    dead_letter_url = settings.dead_letter_queue_url()
    letters = read_all(aws.sqs(), dead_letter_url)
    print(as_text([letter.summary() for letter in letters]))
    return 0


def run_redrive(args: argparse.Namespace, settings: Settings) -> int:
    from ops import aws

    dead_letter_url, queue_url = settings.dead_letter_queue_url(), settings.queue_url()
    print(as_text(redrive(aws.sqs(), dead_letter_url=dead_letter_url, queue_url=queue_url, apply=args.apply)))
    return 0


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
            send_back(sqs, queue_url, letter, letter.event)
            delete(sqs, dead_letter_url, letter.message_id)
            line["action"] = "moved back"
        report.append(line)
    return report


def send_back(sqs: SQSClient, queue_url: str, letter: DeadLetter, event: QueuedEvent) -> None:
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


def delete(sqs: SQSClient, queue_url: str, message_id: str) -> None:
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
