"""A piece of work's deadline, and the scope that exposes it and counts its upstream requests."""

from __future__ import annotations

from chalicelib.deadlines import CallStats, Deadline, current_deadline, current_stats, upstream_scope


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- Deadline -----------------------------------------------------------------------------------


def test_a_deadline_counts_down_with_the_clock() -> None:
    fake = FakeClock()
    deadline = Deadline.after(4.0, clock=fake)

    assert deadline.remaining() == 4.0
    fake.now += 1.5
    assert deadline.remaining() == 2.5
    fake.now += 3.0
    assert deadline.remaining() == -0.5


# --- upstream_scope -----------------------------------------------------------------------------


def test_a_scope_exposes_its_deadline_and_stats_only_while_it_runs() -> None:
    deadline = Deadline.after(4.0, clock=FakeClock())

    assert current_deadline() is None
    with upstream_scope(deadline) as stats:
        assert current_deadline() is deadline
        assert current_stats() is stats
        stats.management += 2
        stats.authentication += 1
    assert current_deadline() is None
    assert current_stats() is not stats
    assert stats.total == 3


def test_call_stats_total_counts_management_and_authentication_requests() -> None:
    assert CallStats(management=2, authentication=1, throttled=5).total == 3
