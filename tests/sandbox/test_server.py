"""``SandboxServer``: loopback only, the rate limit for the Management API only, people's token lifetime."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from sandbox.__main__ import main as sandbox_cli
from sandbox.server import SandboxServer
from tests.sandbox.browser import claims_of, refresh, seed_buyer, signed_in
from tests.sandbox.support import (
    TIMEOUT,
    api,
)


def test_the_constructor_limit_applies_to_the_management_api_only(tmp_path: Path) -> None:
    with SandboxServer(rate_limit=0.1, burst=1, catalogue=None) as limited:
        first = api(limited, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"})
        second = api(limited, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"})
        discovery = requests.get(f"{limited.base_url}/.well-known/jwks.json", timeout=TIMEOUT)
    assert (first.status_code, second.status_code, discovery.status_code) == (200, 429, 200)
    assert "x-ratelimit-limit" not in discovery.headers


def test_only_loopback_hosts_are_served() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(host="0.0.0.0")  # noqa: S104 - the point of the test
    assert sandbox_cli(["serve", "--host", "192.0.2.1", "--port", "0"]) == 2


def test_user_access_tokens_follow_the_configured_lifetime_and_m2m_tokens_keep_24_hours() -> None:
    with SandboxServer(port=0, state_path=None, access_token_lifetime=90) as short:
        seed_buyer(short)
        _, tokens = signed_in(short)
        refreshed = refresh(short, tokens["refresh_token"]).json()
        m2m = requests.post(
            f"{short.base_url}/oauth/token",
            json={
                "grant_type": "client_credentials",
                "client_id": "sandbox-m2m-client",
                "client_secret": "sandbox-m2m-client-secret-not-a-real-secret",
                "audience": short.management_audience,
            },
            timeout=TIMEOUT,
        ).json()
    for answer in (tokens, refreshed):
        claims = claims_of(answer["access_token"])
        assert answer["expires_in"] == 90
        assert int(str(claims["exp"])) - int(str(claims["iat"])) == 90
    assert m2m["expires_in"] == 86400
