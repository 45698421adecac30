"""Queue messages, FIFO group and deduplication ids, the SQS sender and the worker's failure handling."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib.aws.sqs import DeadLetters, PingQueue, Visibility
from chalicelib.errors import (
    ConfigurationError,
    MalformedMessage,
    PurchaseNotYetKnown,
    UpstreamRejected,
    UpstreamUnavailable,
)
from chalicelib.purchases.fulfilment import PROCESSED, Outcome
from chalicelib.purchases.gumroad import SaleEvent, SubscriptionEvent, parse_ping
from chalicelib.purchases.queue import (
    QueuedEvent,
    decode_event,
    deduplication_id,
    encode_event,
    group_id,
)
from chalicelib.purchases.worker import BACKOFF_SECONDS, PingWorker, QueueRecord, RetryLater, backoff_seconds
from tests.purchase_support import form_body, recorded_body

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

FORM = "application/x-www-form-urlencoded"


def sale(name: str = "sale", **changes: str | None) -> SaleEvent:
    event = parse_ping(FORM, form_body(name, **changes).encode())
    assert isinstance(event, SaleEvent)
    return event


def ended() -> SubscriptionEvent:
    body = form_body(
        "cancellation",
        resource_name="subscription_ended",
        cancelled=None,
        cancelled_at=None,
        cancelled_by_buyer=None,
        ended_at="2021-03-05T19:38:56Z",
        ended_reason="cancelled",
    )
    event = parse_ping(FORM, body.encode())
    assert isinstance(event, SubscriptionEvent)
    return event


# --- messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sale", "refund", "sale_with_variants", "sale_physical_shipping"])
def test_every_recorded_sale_survives_the_queue_unchanged(name: str) -> None:
    event = parse_ping(FORM, recorded_body(name).encode())
    assert isinstance(event, SaleEvent)

    assert decode_event(encode_event(event)) == event


def test_a_subscription_event_survives_the_queue_unchanged() -> None:
    event = ended()

    assert decode_event(encode_event(event)) == event


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"v": 99, "kind": "sale", "event": {}}),
        json.dumps({"v": 1, "kind": "sale"}),
        json.dumps({"v": 1, "kind": "refund", "event": {"product": {"product_id": "x"}}}),
        json.dumps({"v": 1, "kind": "sale", "event": {"product": {"product_id": "x"}, "surprise": 1}}),
    ],
)
def test_an_unreadable_message_is_malformed(body: str) -> None:
    with pytest.raises(MalformedMessage):
        decode_event(body)


def test_a_message_without_a_buyer_is_malformed() -> None:
    document = json.loads(encode_event(sale()))
    document["event"]["email"] = ""

    with pytest.raises(MalformedMessage, match="buyer"):
        decode_event(json.dumps(document))


def test_one_buyers_events_share_a_group_that_does_not_show_the_address() -> None:
    purchase, refund = sale(), sale("refund")

    assert group_id(purchase) == group_id(refund)
    assert group_id(purchase) != group_id(sale(email="someone-else@example.com"))
    assert "customer" not in group_id(purchase)
    assert len(group_id(purchase)) <= 128


def test_a_redelivered_event_keeps_its_deduplication_id_and_other_events_do_not_share_it() -> None:
    purchase = sale()

    assert deduplication_id(purchase) == deduplication_id(replace(purchase, retry_count=2))
    assert deduplication_id(purchase) != deduplication_id(sale("refund"))
    assert deduplication_id(purchase) != deduplication_id(sale(sale_id="AnotherSale0000000000A=="))
    assert deduplication_id(ended()) != deduplication_id(replace(ended(), occurred_at="2022-01-01T00:00:00Z"))


# --- SQS -----------------------------------------------------------------------------------------


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[SQSClient]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        yield boto3.client("sqs")


def fifo(sqs: SQSClient, name: str) -> str:
    return sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]


def received(sqs: SQSClient, url: str) -> list[Any]:
    answer = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )
    return list(answer.get("Messages", []))


def test_a_queued_event_carries_its_buyer_group_and_identity(sqs: SQSClient) -> None:
    url = fifo(sqs, "pings.fifo")
    queue = PingQueue(client_factory=lambda: sqs, queue_url=url)

    queue.enqueue(sale())
    queue.enqueue(sale())  # Gumroad's "Resend ping": same identity, dropped by FIFO deduplication

    messages = received(sqs, url)
    assert len(messages) == 1
    assert messages[0]["Attributes"]["MessageGroupId"] == group_id(sale())
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == deduplication_id(sale())
    assert decode_event(messages[0]["Body"]) == sale()


def test_an_sqs_failure_is_upstream_unavailable(sqs: SQSClient) -> None:
    queue = PingQueue(
        client_factory=lambda: sqs, queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/gone.fifo"
    )

    with pytest.raises(UpstreamUnavailable, match="could not be queued"):
        queue.enqueue(sale())


# --- the worker ----------------------------------------------------------------------------------


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
