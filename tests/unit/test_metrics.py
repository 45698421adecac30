"""EMF lines: what CloudWatch Logs needs to turn a log line into metric data points, and what the worker measures."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import metrics
from chalicelib.purchases.events import RECONCILIATION_ORIGIN, ProductKeys, SaleEvent, SubscriptionEvent
from chalicelib.purchases.outcomes import ALREADY_DONE, PROCESSED, Outcome
from chalicelib.purchases.queue import encode_event
from chalicelib.purchases.worker import PingWorker, QueueRecord, outcome_metrics

SALE = SaleEvent(
    resource_name="sale",
    sale_id="FO8TXN-dvxYabdavG97Y-Q==",
    seller_id="kL0psVL2admJSYRNs-OCMg==",
    product=ProductKeys(product_id="32-nPAicqbLj8B_WswVlMw=="),
    email="calvin@example.com",
    full_name=None,
    subscription_id=None,
    sale_timestamp="2026-11-29T11:59:00Z",
    refunded=False,
    disputed=False,
    dispute_won=False,
    test=False,
    gift=False,
    recurring_charge=False,
    retry_count=0,
    shadowed_keys=(),
)
NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC).timestamp()


def emf_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.metrics"]


def test_an_emf_line_declares_each_metric_it_carries(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gumroad_auth0")

    metrics.emit(
        "worker_metrics",
        [metrics.Metric("PurchasesFulfilled", 1), metrics.Metric("SecondsFromSaleToAccess", 12.5, metrics.SECONDS)],
        function="stack-worker",
        clock=lambda: 1795956457.145,
        properties={"course": "serverless-handbook"},
    )

    [line] = emf_lines(caplog)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert line["_aws"]["Timestamp"] == 1795956457145, "milliseconds since the epoch"
    assert directive == {
        "Namespace": "GumroadAuth0Gate",
        "Dimensions": [["function"]],
        "Metrics": [
            {"Name": "PurchasesFulfilled", "Unit": "Count"},
            {"Name": "SecondsFromSaleToAccess", "Unit": "Seconds"},
        ],
    }
    # Every member a directive names is on the root, with a number (the EMF specification's "target members").
    assert (line["function"], line["PurchasesFulfilled"], line["SecondsFromSaleToAccess"]) == ("stack-worker", 1, 12.5)
    assert (line["level"], line["logger"], line["event"], line["course"]) == (
        "info",
        "gumroad_auth0.metrics",
        "worker_metrics",
        "serverless-handbook",
    )


def test_the_dimension_is_the_lambda_functions_name(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="gumroad_auth0")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "gumroad-auth0-gate-prod-reconcile")

    metrics.emit("reconciliation_metrics", [metrics.Metric(metrics.RECONCILIATION_ENQUEUED, 3)])
    metrics.emit("nothing", [])

    [line] = emf_lines(caplog)
    assert line["function"] == "gumroad-auth0-gate-prod-reconcile"


def test_a_grant_measures_the_purchase_and_the_seconds_since_the_sale() -> None:
    outcome = Outcome(PROCESSED, "sale", changes=("user_created", "role_assigned"))

    found = outcome_metrics(SALE, outcome, now=NOW)

    assert found == [
        metrics.Metric(metrics.PURCHASES_FULFILLED, 1),
        metrics.Metric(metrics.SECONDS_TO_ACCESS, 60.0, metrics.SECONDS),
    ]


def test_a_removal_and_a_no_op_measure_what_they_did() -> None:
    refund = replace(SALE, resource_name="refund", refunded=True)

    assert outcome_metrics(refund, Outcome(PROCESSED, "refund", changes=("role_removed", "record_saved")), now=NOW) == [
        metrics.Metric(metrics.ACCESS_REMOVED, 1)
    ]
    assert outcome_metrics(SALE, Outcome(ALREADY_DONE, "sale"), now=NOW) == []


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        (("role_assigned",), metrics.RECONCILIATION_GRANTED),
        (("role_removed",), metrics.RECONCILIATION_REVOKED),
        ((), metrics.RECONCILIATION_ALREADY_RIGHT),
        (("role_verified",), metrics.RECONCILIATION_ALREADY_RIGHT),
    ],
)
def test_a_reconciled_event_counts_as_a_fix_or_as_already_right(changes: tuple[str, ...], name: str) -> None:
    event = replace(SALE, origin=RECONCILIATION_ORIGIN)

    found = outcome_metrics(event, Outcome(PROCESSED if changes else ALREADY_DONE, "sale", changes=changes), now=NOW)

    assert found[-1] == metrics.Metric(name, 1)


class Sink:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, *, body: str, message_id: str, reason: str, group: str | None = None) -> None:
        self.sent.append(reason)

    def delay(self, receipt_handle: str, seconds: int) -> None:
        return None


def test_the_worker_counts_a_dead_letter(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gumroad_auth0")
    sink = Sink()

    def never(event: Any, *, verify_role: bool) -> Outcome:
        raise AssertionError("an unreadable message is never fulfilled")

    worker = PingWorker(fulfil=never, dead_letters=sink, visibility=sink, deadline_seconds=5.0)
    worker.process(QueueRecord(message_id="m-1", body="{not json", receipt_handle="r-1", receive_count=1))

    [line] = emf_lines(caplog)
    assert line[metrics.DEAD_LETTERS] == 1
    assert len(sink.sent) == 1


def test_the_worker_measures_a_reconciled_membership_end(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gumroad_auth0")
    sink = Sink()
    ended = SubscriptionEvent(
        resource_name="subscription_ended",
        subscription_id="GazW4_NBcQy-o7Gjjng7lw==",
        product=ProductKeys(product_id="8RhOl0SwGgLXJ0CXvRMUrQ=="),
        email="calvin@example.com",
        purchase_ids=(),
        occurred_at="2026-11-29T12:00:00Z",
        retry_count=0,
        origin=RECONCILIATION_ORIGIN,
    )

    def fulfil(event: Any, *, verify_role: bool) -> Outcome:
        return Outcome(PROCESSED, event.event_name, changes=("role_removed", "record_saved"))

    worker = PingWorker(fulfil=fulfil, dead_letters=sink, visibility=sink, deadline_seconds=5.0, clock=lambda: NOW)
    worker.process(QueueRecord(message_id="m-2", body=encode_event(ended), receipt_handle="r-2", receive_count=1))

    [line] = emf_lines(caplog)
    assert (line[metrics.ACCESS_REMOVED], line[metrics.RECONCILIATION_REVOKED], line[metrics.AUTH0_THROTTLED]) == (
        1,
        1,
        0,
    )
