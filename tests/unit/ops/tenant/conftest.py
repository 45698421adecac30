"""The tenant tests' Management API: auth0-python's client over an httpx transport that answers as Auth0 does."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from auth0.management import Auth0

from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy
from ops.tenant.auth0 import Calls
from tests.auth0_replay import BASE_URL

Answer = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def calls_for() -> Iterator[Callable[[Answer], Calls]]:
    """``ops tenant``'s calls to a Management API that ``answer`` plays, with no waiting."""
    opened: list[httpx.Client] = []

    def build(answer: Answer) -> Calls:
        http = httpx.Client(transport=httpx.MockTransport(answer))
        opened.append(http)
        sdk = Auth0(base_url=f"{BASE_URL}/api/v2", token="a-management-token", max_retries=0, httpx_client=http)
        return Calls(sdk, pacer=RateLimitPacer(), policy=RetryPolicy(), sleep=lambda _: None)

    yield build
    for http in opened:
        http.close()
