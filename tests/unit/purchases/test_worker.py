"""The queue worker: backoff, dead letters and role re-reads, through the real SQS adapters (moto) and through
small fakes of its ports."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.aws.sqs import DeadLetters, Visibility
from chalicelib.errors import (
    ConfigurationError,
    PurchaseNotYetKnown,
    RetryLater,
    UpstreamRejected,
    UpstreamUnavailable,
)
from chalicelib.purchases.outcomes import PROCESSED, Outcome
from chalicelib.purchases.queue import (
    REDRIVEN_ATTRIBUTE,
    QueuedEvent,
    encode_event,
    group_id,
)
from chalicelib.purchases.worker import (
    BACKOFF_SECONDS,
    PingWorker,
    QueueRecord,
    backoff_seconds,
    queue_record,
)
from tests.unit.aws.test_sqs import fifo, received, sqs
from tests.unit.purchases.test_queue import sale

__all__ = ["sqs"]  # the fixture, shared with the SQS tests

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


# --- the worker with the real SQS adapters (moto) -------------------------------------------------


class Recorder:
    """A fulfilment stand-in that records its calls and answers or fails as told."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.calls: list[tuple[QueuedEvent, bool]] = []
        self.failure = failure

    def __call__(self, event: QueuedEvent, *, verify_role: bool) -> Outcome:
        self.calls.append((event, verify_role))
        if self.failure is not None:
            raise self.failure
        return Outcome(PROCESSED, event.event_name, course="serverless-handbook", changes=("role_assigned",))


@pytest.fixture
def queues(sqs: SQSClient) -> tuple[str, str]:
    return fifo(sqs, "pings.fifo"), fifo(sqs, "pings-dlq.fifo")


def worker(sqs: SQSClient, queues: tuple[str, str], fulfil: Recorder) -> PingWorker:
    main, dead = queues
    return PingWorker(
        fulfil=fulfil,
        dead_letters=DeadLetters(client_factory=lambda: sqs, queue_url=dead),
        visibility=Visibility(client_factory=lambda: sqs, queue_url=main),
        deadline_seconds=5.0,
    )


def delivered(sqs: SQSClient, url: str, body: str) -> QueueRecord:
    """Send ``body`` to the queue and receive it, as the Lambda event source would."""
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=str(hash(body)))
    message = received(sqs, url)[0]
    return QueueRecord(
        message_id=message["MessageId"],
        body=message["Body"],
        receipt_handle=message["ReceiptHandle"],
        receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
    )


def test_a_first_delivery_is_fulfilled_trusting_the_record(sqs: SQSClient, queues: tuple[str, str]) -> None:
    fulfil = Recorder()

    worker(sqs, queues, fulfil).process(delivered(sqs, queues[0], encode_event(sale())))

    assert fulfil.calls == [(sale(), False)]


def test_a_redelivery_re_reads_the_role_because_the_attempt_before_may_have_stopped_half_way(
    sqs: SQSClient, queues: tuple[str, str]
) -> None:
    fulfil = Recorder()
    record = replace(delivered(sqs, queues[0], encode_event(sale())), receive_count=2)

    worker(sqs, queues, fulfil).process(record)

    assert fulfil.calls == [(sale(), True)]


def test_a_message_an_operator_redrove_re_reads_the_role_too(sqs: SQSClient, queues: tuple[str, str]) -> None:
    fulfil = Recorder()
    record = replace(delivered(sqs, queues[0], encode_event(sale())), redriven=True)

    worker(sqs, queues, fulfil).process(record)

    assert fulfil.calls == [(sale(), True)]


@pytest.mark.parametrize(
    "failure", [UpstreamUnavailable("Auth0 answered 503"), PurchaseNotYetKnown("not yet")], ids=["outage", "too-early"]
)
def test_a_transient_failure_delays_the_message_and_fails_the_invocation(
    sqs: SQSClient, queues: tuple[str, str], failure: Exception
) -> None:
    record = delivered(sqs, queues[0], encode_event(sale()))
    sqs.change_message_visibility(QueueUrl=queues[0], ReceiptHandle=record.receipt_handle, VisibilityTimeout=0)

    with pytest.raises(RetryLater):
        worker(sqs, queues, Recorder(failure)).process(record)

    assert received(sqs, queues[0]) == [], "the message is hidden for the backoff, not redelivered at once"
    assert received(sqs, queues[1]) == [], "a transient failure is not dead-lettered"


@pytest.mark.parametrize(
    "failure",
    [UpstreamRejected("role rol_x does not exist in Auth0"), ConfigurationError("COURSES_FILE is broken")],
    ids=["missing-role", "misconfigured"],
)
def test_a_permanent_failure_goes_to_the_dead_letter_queue_at_once_with_its_reason(
    sqs: SQSClient, queues: tuple[str, str], failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    body = encode_event(sale())
    record = delivered(sqs, queues[0], body)

    with caplog.at_level(logging.ERROR, logger="gumroad_auth0"):
        worker(sqs, queues, Recorder(failure)).process(record)

    [dead] = received(sqs, queues[1])
    assert dead["Body"] == body
    assert str(failure) in dead["MessageAttributes"]["reason"]["StringValue"]
    assert dead["MessageAttributes"]["original_message_id"]["StringValue"] == record.message_id
    assert dead["Attributes"]["MessageGroupId"] == group_id(sale()), "redriven, it rejoins its buyer's order"
    assert '"event":"ping_dead_lettered"' in caplog.text


def test_a_malformed_message_is_dead_lettered_without_touching_auth0(sqs: SQSClient, queues: tuple[str, str]) -> None:
    fulfil = Recorder()

    worker(sqs, queues, fulfil).process(delivered(sqs, queues[0], "{not json"))

    assert fulfil.calls == []
    [dead] = received(sqs, queues[1])
    assert dead["MessageAttributes"]["reason"]["StringValue"].startswith("malformed_message")


def test_the_worker_logs_one_line_per_message_without_the_address(
    sqs: SQSClient, queues: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        worker(sqs, queues, Recorder()).process(delivered(sqs, queues[0], encode_event(sale())))

    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.ping"]
    assert (line["event"], line["status"], line["outcome"]) == ("ping_processed", 200, PROCESSED)
    assert "customer@example.com" not in caplog.text


def test_backoff_grows_with_each_attempt_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in range(1, 8)] == [*BACKOFF_SECONDS, BACKOFF_SECONDS[-1], BACKOFF_SECONDS[-1]]


def test_a_failing_visibility_change_still_fails_the_invocation(sqs: SQSClient, queues: tuple[str, str]) -> None:
    record = replace(delivered(sqs, queues[0], encode_event(sale())), receipt_handle="bogus")

    with pytest.raises(RetryLater):
        worker(sqs, queues, Recorder(UpstreamUnavailable("503"))).process(record)


def test_client_errors_from_sqs_are_not_swallowed_when_dead_lettering(sqs: SQSClient, queues: tuple[str, str]) -> None:
    record = delivered(sqs, queues[0], "{not json")
    broken = worker(sqs, (queues[0], queues[0].replace("pings", "missing")), Recorder())

    with pytest.raises(ClientError):
        broken.process(record)


# --- the worker with fakes of its ports: exactly what it asks of each -----------------------------


@dataclass
class DeadLetterLog:
    """A DeadLetterSink that keeps what it is given."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, *, body: str, message_id: str, reason: str, group: str | None = None) -> None:
        self.sent.append({"body": body, "message_id": message_id, "reason": reason, "group": group})


@dataclass
class DelayLog:
    """A RetryDelay that keeps the delays asked for."""

    delays: list[tuple[str, int]] = field(default_factory=list)

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self.delays.append((receipt_handle, seconds))


@dataclass
class Ports:
    fulfil: Recorder
    dead_letters: DeadLetterLog
    visibility: DelayLog
    worker: PingWorker


def ported(failure: Exception | None = None) -> Ports:
    fulfil, dead_letters, visibility = Recorder(failure), DeadLetterLog(), DelayLog()
    worker = PingWorker(fulfil=fulfil, dead_letters=dead_letters, visibility=visibility, deadline_seconds=5.0)
    return Ports(fulfil, dead_letters, visibility, worker)


def message(body: str, *, receive_count: int = 1, redriven: bool = False) -> QueueRecord:
    return QueueRecord(
        message_id="059f36b4-87a3-44ab-83d2-661975830a7d",
        body=body,
        receipt_handle="AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        receive_count=receive_count,
        redriven=redriven,
    )


@pytest.mark.parametrize(
    "failure",
    [UpstreamRejected("role rol_x does not exist in Auth0"), ConfigurationError("AUTH0_DOMAIN is not set")],
    ids=["upstream-rejected", "misconfigured"],
)
def test_a_permanent_failure_is_sent_to_the_dead_letter_sink_with_its_code_and_reason(failure: Exception) -> None:
    ports = ported(failure)
    body = encode_event(sale())

    ports.worker.process(message(body))

    assert len(ports.dead_letters.sent) == 1
    sent = ports.dead_letters.sent[0]
    assert sent["body"] == body
    assert sent["message_id"] == "059f36b4-87a3-44ab-83d2-661975830a7d"
    assert sent["group"] == group_id(sale())
    assert isinstance(failure, UpstreamRejected | ConfigurationError)
    assert sent["reason"] == f"{failure.code}: {failure.message}"
    assert ports.visibility.delays == []


@pytest.mark.parametrize("receive_count", [1, 2, 3, 5, 9])
def test_a_transient_failure_backs_the_message_off_by_its_receive_count_and_raises_retry_later(
    receive_count: int,
) -> None:
    ports = ported(UpstreamUnavailable("Auth0 answered 503 to 'assign role' once; retry later"))

    with pytest.raises(RetryLater):
        ports.worker.process(message(encode_event(sale()), receive_count=receive_count))

    assert ports.visibility.delays == [("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a", backoff_seconds(receive_count))]
    assert ports.dead_letters.sent == []


def test_a_refund_before_its_sale_is_retried_later_not_dead_lettered() -> None:
    ports = ported(PurchaseNotYetKnown("this purchase is not known yet; retry later"))

    with pytest.raises(RetryLater):
        ports.worker.process(message(encode_event(sale("refund"))))

    assert ports.dead_letters.sent == []
    assert len(ports.visibility.delays) == 1


@pytest.mark.parametrize(
    ("receive_count", "redriven", "verify_role"),
    [(1, False, False), (2, False, True), (4, False, True), (1, True, True)],
    ids=["first-delivery", "second-delivery", "fourth-delivery", "redriven-first-delivery"],
)
def test_only_a_redelivery_or_a_redriven_message_re_reads_the_role(
    receive_count: int, redriven: bool, verify_role: bool
) -> None:
    ports = ported()

    ports.worker.process(message(encode_event(sale()), receive_count=receive_count, redriven=redriven))

    assert [(event, verify) for event, verify in ports.fulfil.calls] == [(sale(), verify_role)]
    assert ports.dead_letters.sent == []
    assert ports.visibility.delays == []


@pytest.mark.parametrize(
    "body", ["{not json", "[]", json.dumps({"v": 1}), ""], ids=["broken", "list", "no-event", "empty"]
)
def test_an_unreadable_message_is_dead_lettered_without_a_group_and_never_fulfilled(body: str) -> None:
    ports = ported()

    ports.worker.process(message(body))

    assert ports.fulfil.calls == []
    assert [(sent["body"], sent["group"]) for sent in ports.dead_letters.sent] == [(body, None)]
    assert ports.dead_letters.sent[0]["reason"].startswith("malformed_message: ")


# Records as the Lambda SQS event source delivers them (AWS's documented sample event, FIFO attributes).
def sqs_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": encode_event(sale()),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
            "SequenceNumber": "18849496460467696128",
            "MessageGroupId": "1",
            "MessageDeduplicationId": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:pings.fifo",
        "awsRegion": "us-east-2",
    }
    record.update(changes)
    return record


def test_queue_record_reads_the_id_body_handle_and_receive_count_of_an_sqs_record() -> None:
    record = queue_record(sqs_record(attributes={**sqs_record()["attributes"], "ApproximateReceiveCount": "3"}))

    assert record == QueueRecord(
        message_id="059f36b4-87a3-44ab-83d2-661975830a7d",
        body=encode_event(sale()),
        receipt_handle="AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        receive_count=3,
        redriven=False,
    )


def test_queue_record_sees_the_redriven_message_attribute() -> None:
    attribute = {"stringValue": "true", "stringListValues": [], "binaryListValues": [], "dataType": "String"}

    assert queue_record(sqs_record(messageAttributes={REDRIVEN_ATTRIBUTE: attribute})).redriven is True
    assert (
        queue_record(sqs_record(messageAttributes={REDRIVEN_ATTRIBUTE: {**attribute, "stringValue": "false"}})).redriven
        is False
    )


@pytest.mark.parametrize("count", ["", "many", "-1"])
def test_a_receive_count_sqs_did_not_write_is_taken_as_a_redelivery(count: str) -> None:
    attributes = {**sqs_record()["attributes"], "ApproximateReceiveCount": count}

    assert queue_record(sqs_record(attributes=attributes)).receive_count == 2
