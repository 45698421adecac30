"""The queue worker: the same fulfilment as the inline path, with backoff and dead letters."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib import metrics
from chalicelib.deadlines import Deadline, upstream_scope
from chalicelib.errors import ConfigurationError, MalformedMessage, RetryLater, ServiceError, UpstreamRejected
from chalicelib.logs import log_event, mask_email
from chalicelib.purchases.events import RECONCILIATION_ORIGIN, SaleEvent
from chalicelib.purchases.outcomes import Outcome
from chalicelib.purchases.ping_log import PingLogLine
from chalicelib.purchases.ports import DeadLetterSink, RetryDelay
from chalicelib.purchases.queue import REDRIVEN_ATTRIBUTE, QueuedEvent, decode_event, group_id

log = logging.getLogger("gumroad_auth0.worker")

# Backoff between attempts, by attempt number: the queue's maxReceiveCount bounds the attempts.
BACKOFF_SECONDS = (15, 60, 180, 600, 900)


@dataclass(frozen=True)
class QueueRecord:
    message_id: str
    body: str
    receipt_handle: str
    receive_count: int
    redriven: bool = False
    """Put back from the dead-letter queue by an operator: its earlier attempts may have stopped half-way."""


def queue_record(record: Mapping[str, Any]) -> QueueRecord:
    """An SQS record as the Lambda event source delivers it (``SQSEvent`` record's ``to_dict()``)."""
    attributes = record.get("attributes") or {}
    message_attributes = record.get("messageAttributes") or {}
    redriven = (message_attributes.get(REDRIVEN_ATTRIBUTE) or {}).get("stringValue") == "true"
    count = str(attributes.get("ApproximateReceiveCount", "1"))
    return QueueRecord(
        message_id=str(record.get("messageId", "")),
        body=str(record.get("body", "")),
        receipt_handle=str(record.get("receiptHandle", "")),
        # A count SQS did not write (it always does) is taken as a redelivery: the roles are re-read.
        receive_count=int(count) if count.isdigit() else 2,
        redriven=redriven,
    )


class Fulfil(Protocol):
    def __call__(self, event: QueuedEvent, *, verify_role: bool) -> Outcome: ...


class PingWorker:
    """Processes queued pings one message at a time.

    Chalice sets no ReportBatchItemFailures, so a failure retries the whole batch; with one
    message per batch a failure delays only its own buyer, and throughput is bounded by
    Auth0's rate limit anyway, not by Lambda invocations.

    * transient failures (throttling, 5xx, timeouts, a refund before its sale): the message's
      visibility is set to a growing backoff and it is delivered again; after the queue's
      maxReceiveCount the redrive policy moves it to the dead-letter queue;
    * permanent failures (a role missing in Auth0, a missing scope, bad configuration, an
      unreadable message): straight to the dead-letter queue with the reason;
    * a redelivery (receive count > 1, or a message an operator redrove from the dead-letter
      queue) re-reads the buyer's roles instead of trusting the record, because the attempt
      before may have stopped half-way.
    """

    def __init__(
        self,
        *,
        fulfil: Fulfil,
        dead_letters: DeadLetterSink,
        visibility: RetryDelay,
        deadline_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fulfil = fulfil
        self._dead_letters = dead_letters
        self._visibility = visibility
        self._deadline_seconds = deadline_seconds
        self._clock = clock

    def process_all(self, records: Iterable[QueueRecord]) -> None:
        for record in records:
            self.process(record)

    def process(self, record: QueueRecord) -> None:
        started = time.monotonic()
        line = PingLogLine(event="ping_processed", retry_count=record.receive_count - 1 or None)
        measured: list[metrics.Metric] = []
        try:
            try:
                event = decode_event(record.body)
            except MalformedMessage as error:
                self._dead_letter(record, error, line, group=None)
                measured.append(metrics.Metric(metrics.DEAD_LETTERS, 1))
                return
            line.resource = event.event_name
            line.buyer = mask_email(event.email)
            line.subscription_id = event.subscription_id
            line.sale_id = getattr(event, "sale_id", None)
            line.origin = event.origin if event.origin == RECONCILIATION_ORIGIN else None
            with upstream_scope(Deadline.after(self._deadline_seconds)) as stats:
                try:
                    outcome = self._fulfil(event, verify_role=record.receive_count > 1 or record.redriven)
                except (UpstreamRejected, ConfigurationError) as error:
                    self._dead_letter(record, error, line, group=group_id(event))
                    measured.append(metrics.Metric(metrics.DEAD_LETTERS, 1))
                    return
                except ServiceError as error:
                    line.status, line.error, line.detail = 503, error.code, error.message
                    self._visibility.delay(record.receipt_handle, backoff_seconds(record.receive_count))
                    raise RetryLater(error.code) from None
                finally:
                    line.auth0_calls, line.auth0_throttled = stats.total, stats.throttled
                    measured.append(metrics.Metric(metrics.AUTH0_THROTTLED, stats.throttled))
            line.status, line.outcome, line.course = 200, outcome.status, outcome.course
            line.reason, line.changes = outcome.reason, list(outcome.changes) or None
            measured += outcome_metrics(event, outcome, now=self._clock())
        finally:
            line.duration_ms = round((time.monotonic() - started) * 1000, 1)
            line.emit()
            metrics.emit("worker_metrics", measured)

    def _dead_letter(self, record: QueueRecord, error: ServiceError, line: PingLogLine, *, group: str | None) -> None:
        line.status, line.outcome, line.error, line.detail = 422, "dead_lettered", error.code, error.message
        reason = f"{error.code}: {error.message}"
        self._dead_letters.send(body=record.body, message_id=record.message_id, reason=reason, group=group)
        log_event(log, logging.ERROR, "ping_dead_lettered", reason=reason)


def outcome_metrics(event: QueuedEvent, outcome: Outcome, *, now: float) -> list[metrics.Metric]:
    """What one applied event did, as metrics: a grant (and how long after the sale), a removal, and,
    for an event the reconciliation read from the Sales API, whether it fixed anything."""
    granted = "role_assigned" in outcome.changes
    removed = "role_removed" in outcome.changes
    found: list[metrics.Metric] = []
    if granted:
        found.append(metrics.Metric(metrics.PURCHASES_FULFILLED, 1))
        waited = _seconds_since(event.sale_timestamp if isinstance(event, SaleEvent) else None, now)
        if waited is not None:
            found.append(metrics.Metric(metrics.SECONDS_TO_ACCESS, waited, metrics.SECONDS))
    if removed:
        found.append(metrics.Metric(metrics.ACCESS_REMOVED, 1))
    if event.origin == RECONCILIATION_ORIGIN:
        name = (
            metrics.RECONCILIATION_GRANTED
            if granted
            else metrics.RECONCILIATION_REVOKED
            if removed
            else metrics.RECONCILIATION_ALREADY_RIGHT
        )
        found.append(metrics.Metric(name, 1))
    return found


def _seconds_since(timestamp: str | None, now: float) -> float | None:
    if timestamp is None:
        return None
    try:
        return max(0.0, round(now - datetime.fromisoformat(timestamp).timestamp(), 3))
    except ValueError:
        return None


def backoff_seconds(receive_count: int) -> int:
    return BACKOFF_SECONDS[min(max(receive_count, 1), len(BACKOFF_SECONDS)) - 1]
