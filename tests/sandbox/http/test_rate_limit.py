"""The Management API's token bucket: its arithmetic, its headers, and Auth0's 429 over HTTP."""

from __future__ import annotations

import time

import pytest
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError

from sandbox.http.rate_limit import RateLimiter, TokenBucket
from sandbox.server import SandboxServer
from tests.sandbox.support import (
    api,
    dev,
    fixture,
)


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


def test_a_free_tier_limit_answers_headers_then_auth0s_429_until_the_reset(server: SandboxServer) -> None:
    assert dev(server, "POST", "config", json={"rate_limit": 2, "burst": 2}).json()["burst"] == 2
    query = {"email": "a@example.com"}
    answers = [api(server, "GET", "/api/v2/users-by-email", params=query) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["1", "0", "0"]
    assert {answer.headers["x-ratelimit-limit"] for answer in answers} == {"2"}
    assert answers[2].json() == fixture("error_429_too_many_requests.json")
    reset = int(answers[2].headers["x-ratelimit-reset"])
    assert time.time() - 1 <= reset <= time.time() + 2
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    assert api(server, "GET", "/api/v2/users-by-email", params=query).status_code == 200
    assert dev(server, "GET", "stats").json()["rate_limited"] == 1


def test_auth0_python_sees_a_429_as_too_many_requests_with_the_reset_header(
    server: SandboxServer, management: Auth0
) -> None:
    dev(server, "POST", "config", json={"rate_limit": 0.1, "burst": 1})
    management.users.list_users_by_email(email="a@example.com")
    with pytest.raises(ApiError) as raised:
        management.users.list_users_by_email(email="a@example.com")
    assert raised.value.status_code == 429
    assert raised.value.headers is not None
    assert "x-ratelimit-reset" in raised.value.headers


def test_the_rate_limit_is_off_by_default_and_null_turns_it_off(server: SandboxServer) -> None:
    assert "x-ratelimit-limit" not in api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).headers
    dev(server, "POST", "config", json={"rate_limit": 5})
    assert api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).headers["x-ratelimit-limit"] == "5"
    assert dev(server, "POST", "config", json={"rate_limit": None}).json()["rate_limit"] is None
    assert "x-ratelimit-limit" not in api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).headers
