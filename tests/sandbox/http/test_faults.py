"""Fault injection: the next N matching requests fail (Auth0-shaped 5xx or 429) or arrive late."""

from __future__ import annotations

import time
from typing import Any

import pytest
from auth0.authentication.exceptions import RateLimitError
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    api,
    create_buyer,
    dev,
    m2m_token,
)


def test_faults_fail_the_next_n_matching_requests_with_auth0_shaped_5xx(
    server: SandboxServer, management: Auth0
) -> None:
    fault = {"status": 503, "count": 2, "paths": "/api/v2/users-by-email"}
    assert dev(server, "POST", "faults", json=fault).status_code == 201
    user_id = create_buyer(server)["user_id"]  # another path: unaffected
    for _ in range(2):
        with pytest.raises(ApiError) as raised:
            management.users.list_users_by_email(email="buyer@example.com")
        assert raised.value.status_code == 503
        assert raised.value.body == {
            "statusCode": 503,
            "error": "Service Unavailable",
            "message": "Service Unavailable",
        }
    assert management.users.list_users_by_email(email="buyer@example.com")[0].user_id == user_id
    assert dev(server, "GET", "stats").json()["faults_injected"] == 2


def test_a_delay_fault_slows_the_answer_and_delete_clears_faults(server: SandboxServer) -> None:
    dev(server, "POST", "faults", json={"status": None, "delay_seconds": 0.3, "count": 5})
    started = time.monotonic()
    assert api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert dev(server, "DELETE", "faults").status_code == 204
    assert dev(server, "GET", "faults").json() == {"faults": []}


def test_a_fault_on_the_token_endpoint_reaches_get_token_as_a_rate_limit(server: SandboxServer) -> None:
    dev(server, "POST", "faults", json={"status": 429, "paths": "/oauth/token"})
    with pytest.raises(RateLimitError):
        m2m_token(server)
    assert m2m_token(server)


@pytest.mark.parametrize(
    "fault",
    [{"status": 404}, {"count": 0}, {"delay_seconds": 99}, {"paths": "/sandbox/state"}, {"status": None}, {"x": 1}],
)
def test_a_bad_fault_definition_is_a_400(server: SandboxServer, fault: dict[str, Any]) -> None:
    assert dev(server, "POST", "faults", json=fault).status_code == 400
