"""When Auth0 keeps failing, the error says what Auth0 did (answered 500, timed out), not "in time"."""

from __future__ import annotations

import httpx
import pytest

from chalicelib.auth0_api.directory import gave_up
from chalicelib.errors import UpstreamUnavailable
from tests.auth0_replay import fixture
from tests.purchase_support import recorded_body
from tests.unit.auth0_api.test_directory_exchanges import Tenant, handle, tenant

__all__ = ["tenant"]  # the fixture, shared with the fulfilment tests


def test_four_server_errors_say_auth0_answered_500_four_times(tenant: Tenant) -> None:
    for _ in range(4):
        tenant.replay.reply("GET", "/users-by-email", status=500, body=fixture("error_500_internal.json"))

    with pytest.raises(UpstreamUnavailable) as raised:
        handle(recorded_body("sale"))

    assert raised.value.message == "Auth0 answered 500 to 'find user by email' 4 times; retry later"


def test_timeouts_say_auth0_timed_out(tenant: Tenant) -> None:
    for _ in range(4):
        tenant.replay.reply("GET", "/users-by-email", raises=httpx.ReadTimeout("timed out"))

    with pytest.raises(UpstreamUnavailable, match=r"^Auth0 timed out on 'find user by email' 4 times; retry later$"):
        handle(recorded_body("sale"))


@pytest.mark.parametrize(
    ("failures", "out_of_time", "message"),
    [
        (["503"], True, "Auth0 answered 503 to 'assign role' once; no time was left to try again; retry later"),
        (["unreachable", "unreachable"], False, "Auth0 was unreachable for 'assign role' 2 times; retry later"),
        (["500", "timeout", "429"], False, "Auth0 failed 'assign role' 3 times (500, timeout, 429); retry later"),
    ],
)
def test_the_message_names_each_kind_of_failure(failures: list[str], out_of_time: bool, message: str) -> None:
    assert gave_up("assign role", failures, out_of_time=out_of_time) == message
