"""Deadlines, retry budgets and rate-limit pacing, driven by a fake clock and a fake sleep."""

from __future__ import annotations

import pytest

from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy, rate_limit_wait
from chalicelib.deadlines import Deadline
from chalicelib.errors import UpstreamUnavailable

NOW = 1_700_000_000.0  # unix seconds, as Auth0's x-ratelimit-reset counts them


class FakeTime:
    """One clock for both the deadline and the pacer; sleeping moves it forward."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(fake: FakeTime, **options: float) -> RateLimitPacer:
    return RateLimitPacer(wall_clock=fake, sleep=fake.sleep, **options)


# --- RetryPolicy --------------------------------------------------------------------------------


def test_without_a_deadline_each_call_gets_the_full_timeout() -> None:
    assert RetryPolicy().call_timeout(None) == 2.5


def test_a_call_gets_the_full_timeout_while_time_allows() -> None:
    assert RetryPolicy().call_timeout(Deadline.after(4.0, clock=FakeTime())) == 2.5


def test_a_call_timeout_shrinks_to_the_time_left() -> None:
    fake = FakeTime()
    deadline = Deadline.after(4.0, clock=fake)
    fake.now += 3.0

    assert RetryPolicy().call_timeout(deadline) == pytest.approx(1.0)


def test_a_call_may_start_with_exactly_the_minimum_time_left() -> None:
    policy = RetryPolicy(min_call_seconds=0.5)

    assert policy.call_timeout(Deadline.after(0.5, clock=FakeTime())) == 0.5


@pytest.mark.parametrize("left", [0.29, 0.0, -1.0])
def test_too_little_time_left_is_upstream_unavailable_instead_of_a_call(left: float) -> None:
    with pytest.raises(UpstreamUnavailable, match="ran out"):
        RetryPolicy().call_timeout(Deadline.after(left, clock=FakeTime()))


@pytest.mark.parametrize(("attempt", "seconds"), [(0, 0.1), (1, 0.3), (2, 0.9), (3, 0.9), (10, 0.9)])
def test_backoff_grows_then_stays_at_its_last_step(attempt: int, seconds: float) -> None:
    assert RetryPolicy().backoff(attempt) == seconds


def test_a_wait_fits_only_when_a_call_can_still_follow_it() -> None:
    policy = RetryPolicy(min_call_seconds=0.5)
    deadline = Deadline.after(2.0, clock=FakeTime())

    assert policy.fits(1.5, deadline) is True
    assert policy.fits(1.6, deadline) is False
    assert policy.fits(1000.0, None) is True


# --- rate_limit_wait ----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [None, {}, {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "49"}])
def test_no_rate_limit_headers_ask_for_no_wait(headers: dict[str, str] | None) -> None:
    assert rate_limit_wait(headers, now=NOW) is None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"x-ratelimit-reset": str(int(NOW) + 7)}, 7.0),
        ({"X-RateLimit-Reset": str(int(NOW) + 1)}, 1.0),
        ({"x-ratelimit-reset": str(int(NOW) - 5)}, 0.0),
        ({"Retry-After": "3", "x-ratelimit-reset": str(int(NOW) + 30)}, 3.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT", "x-ratelimit-reset": str(int(NOW) + 4)}, 4.0),
    ],
    ids=[
        "retry-after",
        "retry-after-fraction",
        "retry-after-negative",
        "reset",
        "reset-any-case",
        "reset-in-the-past",
        "retry-after-wins",
        "http-date-falls-back-to-reset",
    ],
)
def test_the_wait_comes_from_retry_after_or_the_reset_time(headers: dict[str, str], seconds: float) -> None:
    assert rate_limit_wait(headers, now=NOW) == pytest.approx(seconds)


def test_an_unreadable_reset_asks_for_no_wait() -> None:
    assert rate_limit_wait({"x-ratelimit-reset": "soon"}, now=NOW) is None


# --- RateLimitPacer -----------------------------------------------------------------------------


def test_an_empty_bucket_holds_the_next_call_until_the_reset() -> None:
    fake = FakeTime()
    limiter = pacer(fake)
    deadline = Deadline.after(4.0, clock=fake)

    limiter.observe(200, {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 2)})
    limiter.wait_turn(RetryPolicy(), deadline)

    assert fake.slept == [pytest.approx(2.0)]
    assert limiter.pending_wait() == 0.0


def test_a_bucket_with_requests_left_does_not_hold_the_next_call() -> None:
    fake = FakeTime()
    limiter = pacer(fake)

    limiter.observe(200, {"x-ratelimit-remaining": "1", "x-ratelimit-reset": str(NOW + 2)})
    limiter.wait_turn(RetryPolicy(), Deadline.after(4.0, clock=fake))

    assert fake.slept == []


def test_after_waiting_once_the_following_call_goes_straight_through() -> None:
    fake = FakeTime()
    limiter = pacer(fake)
    deadline = Deadline.after(4.0, clock=fake)
    limiter.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 1)})

    limiter.wait_turn(RetryPolicy(), deadline)
    limiter.wait_turn(RetryPolicy(), deadline)

    assert fake.slept == [pytest.approx(1.0)]


def test_a_429_holds_the_next_call_for_its_retry_after() -> None:
    fake = FakeTime()
    limiter = pacer(fake)

    limiter.observe(429, {"Retry-After": "1.5"})

    assert limiter.pending_wait() == pytest.approx(1.5)
    limiter.wait_turn(RetryPolicy(), None)
    assert fake.slept == [pytest.approx(1.5)]


def test_retry_after_on_a_successful_answer_holds_nothing() -> None:
    limiter = pacer(FakeTime())

    limiter.observe(200, {"Retry-After": "5", "x-ratelimit-remaining": "10"})

    assert limiter.pending_wait() == 0.0


def test_a_wait_is_capped_at_the_pacers_maximum() -> None:
    limiter = pacer(FakeTime(), max_wait_seconds=3.0)

    limiter.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 60)})

    assert limiter.pending_wait() == pytest.approx(3.0)


def test_a_later_shorter_reset_does_not_shorten_a_pending_wait() -> None:
    limiter = pacer(FakeTime())

    limiter.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 4)})
    limiter.observe(429, {"Retry-After": "1"})

    assert limiter.pending_wait() == pytest.approx(4.0)


def test_a_wait_that_would_overrun_the_deadline_raises_instead_of_sleeping() -> None:
    fake = FakeTime()
    limiter = pacer(fake)
    deadline = Deadline.after(2.0, clock=fake)
    limiter.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 3)})

    with pytest.raises(UpstreamUnavailable, match="rate limit"):
        limiter.wait_turn(RetryPolicy(), deadline)

    assert fake.slept == []


def test_a_wait_leaving_too_little_time_for_the_call_raises() -> None:
    fake = FakeTime()
    limiter = pacer(fake)
    deadline = Deadline.after(2.0, clock=fake)
    limiter.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 1.9)})

    with pytest.raises(UpstreamUnavailable):
        limiter.wait_turn(RetryPolicy(min_call_seconds=0.3), deadline)

    assert fake.slept == []


# --- RateLimitPacer with the tenant's known rate --------------------------------------------------


def test_a_known_rate_lets_a_burst_through_then_spaces_calls_exactly() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=2.0, burst=2.0)

    for _ in range(6):
        paced.wait_turn(RetryPolicy(), None)

    assert fake.slept == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert fake.now - NOW == pytest.approx(2.0), "six calls at 2/s with a burst of 2 take exactly two seconds"


def test_a_known_rate_refills_while_idle_but_never_beyond_the_burst() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=2.0, burst=2.0)
    paced.wait_turn(RetryPolicy(), None)
    fake.now += 60.0

    for _ in range(3):
        paced.wait_turn(RetryPolicy(), None)

    assert fake.slept == pytest.approx([0.5])


def test_an_empty_server_bucket_empties_ours_instead_of_waiting_for_the_rounded_reset() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=2.0, burst=2.0)
    paced.wait_turn(RetryPolicy(), None)

    paced.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 1)})
    paced.wait_turn(RetryPolicy(), None)

    assert fake.slept == pytest.approx([0.5]), "half a second at 2/s, not up to the next whole second"


def test_a_429_is_honoured_even_with_a_known_rate() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=10.0, burst=10.0)

    paced.observe(429, {"retry-after": "3"})
    paced.wait_turn(RetryPolicy(), None)

    assert sum(fake.slept) == pytest.approx(3.0)


def test_a_known_rate_that_overruns_the_deadline_is_refused_without_sleeping() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=0.5, burst=1.0)
    paced.wait_turn(RetryPolicy(), None)

    with pytest.raises(UpstreamUnavailable):
        paced.wait_turn(RetryPolicy(), Deadline(expires_at=fake.now + 1.0, clock=fake))
    assert fake.slept == []
