"""The SQS sender against moto: what a queued event carries, and an SQS failure as UpstreamUnavailable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

from chalicelib.aws.sqs import PingQueue
from chalicelib.errors import (
    UpstreamUnavailable,
)
from chalicelib.purchases.queue import (
    decode_event,
    deduplication_id,
    group_id,
)
from tests.unit.purchases.test_queue import sale

# --- SQS -----------------------------------------------------------------------------------------

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


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
