"""What every request passes: the Management API's bearer token, and an Auth0-shaped 500 for the unexpected."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer
from sandbox.tenant.keys import SigningKey
from sandbox.tenant.tokens import TokenIssuer
from tests.sandbox.support import (
    TIMEOUT,
    api,
    create_buyer,
    fixture,
)


def test_an_expired_management_token_gets_the_recorded_401(server: SandboxServer) -> None:
    expired = server.management_token(issued_at=int(time.time()) - 90_000)
    answer = api(server, "GET", "/api/v2/users-by-email", token=expired, params={"email": "a@example.com"})
    assert (answer.status_code, answer.json()) == (401, fixture("error_401_invalid_token.json"))


def test_the_management_api_accepts_only_unexpired_m2m_tokens_it_issued(server: SandboxServer) -> None:
    path, query = "/api/v2/users-by-email", {"email": "a@example.com"}
    forged = TokenIssuer(SigningKey.generate(), server.issuer).access_token(
        subject="x@clients", audience=server.management_audience, client_id="x", scope="read:users", lifetime=60
    )
    create_buyer(server)
    user_token = server.user_token("buyer@example.com")
    bare = requests.get(f"{server.base_url}{path}", params=query, timeout=TIMEOUT)
    assert (bare.status_code, bare.json()["message"]) == (401, "Missing authentication")
    for token, message in [
        ("not-a-jwt", "Invalid token"),
        (forged, "Invalid token"),
        (user_token, "Bad audience: https://courses.local/api " + f"{server.base_url}/userinfo"),
    ]:
        answer = api(server, "GET", path, token=token, params=query)
        assert (answer.status_code, answer.json()["message"]) == (401, message)


def test_an_unexpected_exception_is_an_auth0_shaped_500_without_a_traceback(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(email: str) -> list[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.tenant, "users_by_email", explode)
    answer = api(server, "GET", "/api/v2/users-by-email", params={"email": "a@example.com"})
    assert (answer.status_code, answer.json()) == (500, fixture("error_500_internal.json"))
    assert "boom" not in answer.text
