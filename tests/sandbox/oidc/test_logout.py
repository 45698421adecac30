"""Logout: the session ends and the browser goes back to an allowed URL, or nothing changes."""

from __future__ import annotations

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    SPA,
    TIMEOUT,
    Pkce,
    code_from,
    exchange,
    redirect_query,
    seed_buyer,
    signed_in,
)


def test_logout_clears_the_session_and_returns_to_an_allowed_url(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, _ = signed_in(server)
    answer = browser.http.get(
        f"{server.base_url}/v2/logout",
        params={"client_id": SPA_CLIENT_ID, "returnTo": SPA},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, SPA)
    assert "Max-Age=0" in answer.headers["Set-Cookie"]
    assert browser.session_cookie() is None
    after = redirect_query(browser.authorize(Pkce(), prompt="none"))
    assert after["error"] == "login_required"


def test_logout_to_a_url_that_is_not_allowed_is_an_error_page_and_keeps_the_session(
    server: SandboxServer,
) -> None:
    seed_buyer(server)
    browser, _ = signed_in(server)
    answer = browser.http.get(
        f"{server.base_url}/v2/logout",
        params={"client_id": SPA_CLIENT_ID, "returnTo": "https://evil.example/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert "Set-Cookie" not in answer.headers
    assert "Allowed Logout URLs" in answer.text
    pkce = Pkce()
    assert exchange(server, code_from(browser.authorize(pkce, prompt="none"), pkce), pkce).status_code == 200


def test_the_end_session_endpoint_knows_the_client_from_the_id_token_hint(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, tokens = signed_in(server)
    answer = browser.http.get(
        f"{server.base_url}/oidc/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": SPA, "state": "s1"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, f"{SPA}?state=s1")
    assert browser.session_cookie() is None
    refused = browser.http.get(
        f"{server.base_url}/oidc/logout",
        params={"post_logout_redirect_uri": SPA},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert (refused.status_code, "Location" in refused.headers) == (400, False)
