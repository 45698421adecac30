"""``GET /userinfo``: the profile the token's scopes allow; a missing or foreign token is refused."""

from __future__ import annotations

import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    SPA,
    TIMEOUT,
    seed_buyer,
    signed_in,
)


def test_userinfo_answers_the_profile_the_token_s_scopes_allow(server: SandboxServer) -> None:
    user_id = seed_buyer(server)
    _, tokens = signed_in(server)
    answer = requests.get(
        f"{server.base_url}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Origin": SPA},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == SPA
    info = answer.json()
    assert (info["sub"], info["email"], info["email_verified"]) == (user_id, "buyer@example.com", False)
    assert "name" in info


def test_userinfo_refuses_a_missing_or_foreign_token(server: SandboxServer) -> None:
    seed_buyer(server)
    missing = requests.get(f"{server.base_url}/userinfo", timeout=TIMEOUT)
    m2m = requests.get(
        f"{server.base_url}/userinfo",
        headers={"Authorization": f"Bearer {server.management_token()}"},
        timeout=TIMEOUT,
    )
    assert missing.status_code == 401
    assert (m2m.status_code, m2m.json()["error"]) == (401, "invalid_token")
