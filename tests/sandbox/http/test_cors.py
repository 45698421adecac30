"""CORS: the SPA's origin may call the token, revoke and userinfo endpoints; no other origin may."""

from __future__ import annotations

import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import SPA, TIMEOUT, Browser, Pkce, exchange, seed_buyer


def preflight(server: SandboxServer, path: str, origin: str) -> requests.Response:
    return requests.options(
        f"{server.base_url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "auth0-client,content-type",
        },
        timeout=TIMEOUT,
    )


def test_the_token_endpoint_answers_the_spa_origin_s_preflight(server: SandboxServer) -> None:
    answer = preflight(server, "/oauth/token", SPA)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SPA
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    allowed = {name.strip().lower() for name in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"auth0-client", "content-type"} <= allowed


def test_another_origin_s_preflight_is_refused_without_cors_headers(server: SandboxServer) -> None:
    for origin in ("https://evil.example", "http://127.0.0.1:3001", "http://localhost:3000"):
        answer = preflight(server, "/oauth/token", origin)
        assert answer.status_code == 403
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_token_answers_carry_the_allow_origin_for_the_spa_only(server: SandboxServer) -> None:
    seed_buyer(server)
    pkce = Pkce()
    code = Browser(server).sign_in(pkce, "buyer@example.com")
    answer = exchange(server, code, pkce)
    error = requests.post(
        f"{server.base_url}/oauth/token", data={"grant_type": "nope"}, headers={"Origin": SPA}, timeout=TIMEOUT
    )
    foreign = requests.post(
        f"{server.base_url}/oauth/token",
        data={"grant_type": "nope"},
        headers={"Origin": "https://evil.example"},
        timeout=TIMEOUT,
    )
    assert answer.headers["Access-Control-Allow-Origin"] == SPA
    assert error.headers["Access-Control-Allow-Origin"] == SPA  # the SDK can show the error
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_the_spa_origins_are_configurable() -> None:
    other = "http://localhost:5173"
    with SandboxServer(port=0, state_path=None, spa_origins=[other]) as server:
        assert preflight(server, "/oauth/token", other).status_code == 204
        assert preflight(server, "/oauth/token", SPA).status_code == 403
        page = Browser(server).authorize(Pkce(), redirect_uri=SPA)
        assert page.status_code == 400


def test_preflight_elsewhere_is_not_answered_as_cors(server: SandboxServer) -> None:
    answer = preflight(server, "/api/v2/users", SPA)
    assert answer.status_code == 405
    assert "Access-Control-Allow-Origin" not in answer.headers
