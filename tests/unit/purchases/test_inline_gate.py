"""Concurrent callers of one pacer take turns; concurrent inline pings take turns for Auth0.

These tests run real threads against the real clock with short intervals; the numbers of a
burst come from bench/inline_burst.py, not from here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy
from chalicelib.deadlines import Deadline
from chalicelib.errors import InlineBusy, UpstreamUnavailable
from chalicelib.purchases.inline_gate import InlineGate

POLICY = RetryPolicy(min_call_seconds=0.05)


def in_threads(*targets: Callable[[], None], stagger: float = 0.02) -> None:
    """Start each target a little after the previous one (so their order of arrival is known), join all."""
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
        time.sleep(stagger)
    for thread in threads:
        thread.join(timeout=10)


def test_without_a_known_rate_a_call_waits_for_the_answer_of_the_call_in_flight() -> None:
    pacer = RateLimitPacer()
    events: list[str] = []
    first_inside = threading.Event()

    def first() -> None:
        with pacer.turn(POLICY, None):
            first_inside.set()
            time.sleep(0.2)
            events.append("first answered")

    def second() -> None:
        first_inside.wait()
        with pacer.turn(POLICY, None):
            events.append("second sent")

    in_threads(first, second)

    assert events == ["first answered", "second sent"], "the headers of one answer decide the next call"


def test_with_a_known_rate_calls_in_flight_overlap() -> None:
    pacer = RateLimitPacer(rate=100.0, burst=5)
    inside = threading.Barrier(2, timeout=2)

    def call() -> None:
        with pacer.turn(POLICY, None):
            inside.wait()  # both are inside at once, or the barrier times out

    in_threads(call, call)

    assert not inside.broken


def test_waiting_calls_go_earliest_deadline_first() -> None:
    pacer = RateLimitPacer(rate=2.0, burst=1)
    pacer.wait_turn(POLICY, None)  # the bucket is empty: the next token comes in 0.5 s, when all three wait
    served: list[str] = []

    def call(name: str, seconds: float) -> Callable[[], None]:
        def run() -> None:
            with pacer.turn(POLICY, Deadline.after(seconds)):
                served.append(name)

        return run

    in_threads(call("late", 9.0), call("soon", 3.0), call("middle", 6.0))

    assert served == ["soon", "middle", "late"], "a ping that started finishes before later ones start"


def test_a_call_whose_turn_comes_after_its_deadline_leaves_the_line_without_a_request() -> None:
    pacer = RateLimitPacer()
    failures: list[UpstreamUnavailable] = []
    holding = threading.Event()
    release = threading.Event()

    def long_call() -> None:
        with pacer.turn(POLICY, None):
            holding.set()
            release.wait(5)

    def impatient() -> None:
        holding.wait()
        try:
            with pacer.turn(POLICY, Deadline.after(0.2)):
                pytest.fail("made a request after its deadline")
        except UpstreamUnavailable as error:
            failures.append(error)
        release.set()

    in_threads(long_call, impatient)

    assert len(failures) == 1
    with pacer.turn(POLICY, Deadline.after(1.0)):
        pass  # the line is empty again


def test_one_inline_ping_at_a_time_in_deadline_order_redeliveries_first() -> None:
    gate = InlineGate(min_call_seconds=0.05)
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with gate.turn(Deadline.after(10.0)):
            holding.set()
            release.wait(5)
            order.append("first")

    def ping(name: str, seconds: float, retry_count: int = 0) -> Callable[[], None]:
        def run() -> None:
            holding.wait()
            with gate.turn(Deadline.after(seconds), retry_count=retry_count):
                order.append(name)

        return run

    threading.Timer(0.3, release.set).start()
    in_threads(first, ping("new, late", 9.0), ping("new, soon", 5.0), ping("third delivery", 9.5, retry_count=2))

    assert order == ["first", "third delivery", "new, soon", "new, late"]


def test_a_ping_that_could_not_finish_in_time_answers_503_before_calling_anyone() -> None:
    gate = InlineGate(min_call_seconds=0.05)
    with gate.turn(None):
        time.sleep(0.3)  # pings take about 0.1 s (smoothed) from now on
    assert gate.estimate > 0.05
    refused: list[InlineBusy] = []
    holding = threading.Event()
    release = threading.Event()

    def busy() -> None:
        with gate.turn(None):
            holding.set()
            release.wait(5)

    def short_of_time() -> None:
        holding.wait()
        started = time.monotonic()
        try:
            with gate.turn(Deadline.after(0.4)):
                pytest.fail("started work it could not finish")
        except InlineBusy as error:
            refused.append(error)
            assert time.monotonic() - started < 0.4, "refused as soon as the work could no longer fit"
        release.set()

    in_threads(busy, short_of_time)

    assert len(refused) == 1
    assert refused[0].code == "upstream_unavailable"
