"""Inline processing: one event per buyer at a time in a process, and never inline inside AWS Lambda."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from chalicelib import wiring
from chalicelib.config.environment import LAMBDA_FUNCTION_NAME
from chalicelib.deadlines import Deadline
from chalicelib.errors import BuyerBusy
from chalicelib.purchases.buyer_locks import BuyerLocks
from tests.purchase_support import recorded_body
from tests.unit.web.test_pings import Harness, harness
from tests.unit.web.test_pings_queued import Deployed, deployed

__all__ = ["deployed", "harness"]  # fixtures shared with the ping route's tests


def test_one_buyers_events_wait_for_each_other() -> None:
    locks = BuyerLocks()
    order: list[str] = []
    first_inside = threading.Event()

    def first() -> None:
        with locks.hold("a@example.com", deadline=None):
            first_inside.set()
            time.sleep(0.2)
            order.append("first done")

    def second() -> None:
        first_inside.wait()
        with locks.hold("a@example.com", deadline=None):
            order.append("second inside")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert order == ["first done", "second inside"]


def test_other_buyers_do_not_wait() -> None:
    locks = BuyerLocks()
    with locks.hold("a@example.com", deadline=None):
        started = time.monotonic()
        with locks.hold("b@example.com", deadline=Deadline.after(1.0)):
            assert time.monotonic() - started < 0.1


def test_waiting_past_the_deadline_is_a_retryable_failure() -> None:
    locks = BuyerLocks()
    with locks.hold("a@example.com", deadline=None):
        outcome: list[BuyerBusy] = []

        def late() -> None:
            try:
                with locks.hold("a@example.com", deadline=Deadline.after(0.1)):
                    pass
            except BuyerBusy as error:
                outcome.append(error)

        thread = threading.Thread(target=late)
        thread.start()
        thread.join()

    assert len(outcome) == 1
    assert outcome[0].code == "upstream_unavailable", "a 503: Gumroad redelivers"


def test_no_lock_outlives_its_buyers_events() -> None:
    locks = BuyerLocks()
    for index in range(1000):
        with locks.hold(f"buyer-{index}@example.com", deadline=None):
            assert len(locks) == 1
    with pytest.raises(RuntimeError), locks.hold("failing@example.com", deadline=None):
        raise RuntimeError("the event failed")
    with (
        locks.hold("a@example.com", deadline=None),
        pytest.raises(BuyerBusy),
        locks.hold("a@example.com", deadline=Deadline.after(0.0)),
    ):
        pass

    assert len(locks) == 0


def test_the_ping_route_releases_every_buyer_lock(harness: Harness) -> None:
    harness.replay.reply("GET", "/users-by-email", status=500, body={"statusCode": 500})

    harness.ping(recorded_body("sale"))

    assert len(wiring.get_dispatch().locks) == 0


def test_a_function_in_aws_lambda_without_a_queue_refuses_pings_and_calls_no_one(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(LAMBDA_FUNCTION_NAME, "gumroad-auth0-gate-api")

    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(recorded_body("sale"))

    assert response.status_code == 503, "Gumroad redelivers once the operator has fixed the stage"
    assert json.loads(response.body)["error"] == "service_misconfigured"
    assert "PING_QUEUE_URL is not set" in caplog.text, "the log tells the operator what to fix"
    assert harness.replay.requests == [], "nothing was processed inline"
    assert harness.token_endpoint.call_count == 0


def test_a_function_in_aws_lambda_with_a_queue_queues_pings(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LAMBDA_FUNCTION_NAME, "gumroad-auth0-gate-api")

    response = deployed.ping(recorded_body("sale"))

    assert response.status_code == 200
    assert json.loads(response.body)["status"] == "queued"
    assert len(deployed.queued()) == 1
