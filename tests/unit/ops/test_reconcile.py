"""`python -m ops reconcile`: the recorded Sales API, read on demand; dry run unless --apply (moto SQS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from moto import mock_aws
from responses import matchers

from chalicelib import wiring
from chalicelib.purchases.queue import decode_event
from ops.__main__ import main as ops
from tests.purchase_support import set_purchase_env

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad_api"
SALES = "https://api.gumroad.com/v2/sales"
ACCESS_TOKEN = "gumroad-oauth-token-for-tests-Op9"
HANDBOOK_PRODUCT = "32-nPAicqbLj8B_WswVlMw=="
MEMBERSHIP_PRODUCT = "8RhOl0SwGgLXJ0CXvRMUrQ=="
SECOND_HANDBOOK_PRODUCT = "vG8hPbGGf7_I4S4mpSFMsw=="
EMPTY = {"success": True, "sales": []}


def recorded_page() -> dict[str, Any]:
    page: dict[str, Any] = json.loads((FIXTURES / "sales_page_reconcile.json").read_text(encoding="utf-8"))
    return page


@pytest.fixture
def gumroad(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    set_purchase_env(monkeypatch, PING_QUEUE_URL=None, RECONCILE_WATERMARK_PARAMETER=None)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", ACCESS_TOKEN)
    wiring.clear_caches()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
    wiring.clear_caches()


def answer(mock: responses.RequestsMock, after: str) -> None:
    answers = ((HANDBOOK_PRODUCT, recorded_page()), (SECOND_HANDBOOK_PRODUCT, EMPTY), (MEMBERSHIP_PRODUCT, EMPTY))
    for product, body in answers:
        params = {"product_id": product, "after": after}
        mock.add(responses.GET, SALES, json=body, match=[matchers.query_param_matcher(params)])


def test_a_dry_run_prints_what_it_would_send_with_masked_buyers(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    answer(gumroad, after="2026-11-01")

    code = ops(["reconcile", "--after", "2026-11-01"])

    out = capsys.readouterr().out
    assert code == 0
    assert "would enqueue (dry run; add --apply): sale 1, refund 2, dispute 0" in out
    assert "refund  Gf2Yq8sLp0VbN4cXw7tKmA==  g***e@example.com  serverless-handbook" in out, (
        "the gift, as the giftee's"
    )
    assert "missed.ping@example.com" not in out
    assert ACCESS_TOKEN not in out


def test_a_dry_run_needs_no_auth0_setting(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reading Gumroad calls no Auth0: the operator of a Gumroad-only problem needs no tenant settings for it.
    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    answer(gumroad, after="2026-11-01")

    code = ops(["reconcile", "--after", "2026-11-01"])

    assert code == 0
    assert "would enqueue (dry run; add --apply): sale 1, refund 2, dispute 0" in capsys.readouterr().out


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """A FIFO queue in moto, entered before `responses` (moto routes AWS calls through responses too)."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="gumroad-auth0-gate-test-pings.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        yield sqs, url


def test_apply_queues_each_event_for_the_worker(
    queue: tuple[Any, str],
    gumroad: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqs, url = queue
    monkeypatch.setenv("PING_QUEUE_URL", url)
    answer(gumroad, after="2026-11-01")

    code = ops(["reconcile", "--after", "2026-11-01", "--apply"])

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert code == 0
    assert "enqueued: sale 1, refund 2" in capsys.readouterr().out
    events = [decode_event(message["Body"]) for message in received]
    assert sorted((event.event_name, event.email) for event in events) == [
        ("refund", "giftee@example.com"),
        ("refund", "refunded@example.com"),
        ("sale", "missed.ping@example.com"),
    ]


def test_apply_without_a_queue_is_refused_before_any_call(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    code = ops(["reconcile", "--apply"])

    assert code == 2
    assert "PING_QUEUE_URL" in capsys.readouterr().err


def test_a_malformed_after_is_refused(gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]) -> None:
    assert ops(["reconcile", "--after", "November"]) == 2
    assert "--after must be a date written YYYY-MM-DD" in capsys.readouterr().err
