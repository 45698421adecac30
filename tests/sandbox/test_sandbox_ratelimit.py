"""The sandbox's token bucket: Auth0-like limits and headers, on a clock the test moves."""

from __future__ import annotations

import pytest

from sandbox.http.rate_limit import RateLimiter, TokenBucket


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_refuses_with_nothing_remaining() -> None:
    bucket = TokenBucket(2, 2, clock=Clock())
    decisions = [bucket.take() for _ in range(3)]
    assert [decision.allowed for decision in decisions] == [True, True, False]
    assert [decision.remaining for decision in decisions] == [1, 0, 0]
    assert {decision.limit for decision in decisions} == {2}


def test_the_reset_of_an_empty_bucket_is_the_second_a_token_is_back() -> None:
    clock = Clock(1_800_000_000.2)
    bucket = TokenBucket(2, 2, clock=clock)
    bucket.take()
    empty = bucket.take()
    assert empty.reset == 1_800_000_001  # a token is back at .7, rounded up to the next whole second
    clock.now = float(empty.reset)
    assert bucket.take().allowed


def test_the_bucket_refills_at_the_rate_and_never_beyond_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(2, 2, clock=clock)
    bucket.take()
    bucket.take()
    clock.now += 0.5
    assert bucket.take().allowed
    assert not bucket.take().allowed
    clock.now += 60
    assert [bucket.take().allowed for _ in range(3)] == [True, True, False]


def test_the_headers_are_auth0s_names_with_whole_numbers() -> None:
    headers = TokenBucket(2, 2, clock=Clock(1_800_000_000.0)).take().headers
    assert headers == {
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-reset": "1800000001",
    }


def test_the_limiter_is_off_until_configured_and_null_turns_it_off() -> None:
    limiter = RateLimiter(clock=Clock())
    assert limiter.take() is None
    limiter.configure(2.5)
    assert limiter.settings == (2.5, 3)
    limiter.configure(None)
    assert limiter.take() is None


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (float("inf"), 1), (1, 0)])
def test_a_bucket_needs_a_positive_rate_and_burst(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match=r"rate|burst"):
        TokenBucket(rate, burst)
