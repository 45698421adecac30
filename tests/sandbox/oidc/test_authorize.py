"""``/authorize``: never a redirect to an unregistered URL, PKCE required, silent authentication, ``web_message``."""

from __future__ import annotations

import time

from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    SPA,
    Browser,
    Pkce,
    code_from,
    exchange,
    posted_message,
    redirect_query,
    seed_buyer,
    signed_in,
)


def test_a_redirect_uri_that_is_not_a_callback_gets_an_error_page_and_never_a_redirect(
    server: SandboxServer,
) -> None:
    browser = Browser(server)
    for redirect_uri in ("https://evil.example/", "http://127.0.0.1:3001", None):
        answer = browser.authorize(Pkce(), redirect_uri=redirect_uri)
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "Callback URL mismatch" in answer.text
    unknown = browser.authorize(Pkce(), client_id="who-knows")
    assert (unknown.status_code, "Location" in unknown.headers) == (400, False)


def test_pkce_is_required_and_only_s256_is_accepted(server: SandboxServer) -> None:
    browser, pkce = Browser(server), Pkce()
    missing = redirect_query(browser.authorize(pkce, code_challenge=None, code_challenge_method=None))
    plain = redirect_query(browser.authorize(pkce, code_challenge_method="plain"))
    implicit = redirect_query(browser.authorize(pkce, response_type="token"))
    assert (missing["error"], missing["state"]) == ("invalid_request", pkce.state)
    assert plain["error"] == "invalid_request"
    assert implicit["error"] == "unsupported_response_type"


def test_an_unknown_audience_is_access_denied_and_unknown_parameters_are_ignored(server: SandboxServer) -> None:
    seed_buyer(server)
    browser = Browser(server)
    denied = redirect_query(browser.authorize(Pkce(), audience="https://other.example/api"))
    assert (denied["error"], denied["error_description"]) == (
        "access_denied",
        "Service not found: https://other.example/api",
    )
    pkce = Pkce()
    code = browser.sign_in(pkce, "buyer@example.com", ui_locales="fr", screen_hint="login", foo="bar")
    assert exchange(server, code, pkce).status_code == 200


def test_a_signed_in_browser_gets_a_code_at_once_unless_prompt_is_login(server: SandboxServer) -> None:
    seed_buyer(server)
    browser = Browser(server)
    browser.sign_in(Pkce(), "buyer@example.com")
    pkce = Pkce()
    again = browser.authorize(pkce)
    assert exchange(server, code_from(again, pkce), pkce).status_code == 200
    forced = browser.authorize(Pkce(), prompt="login")
    assert forced.headers["Location"].startswith(f"{server.base_url}/u/login?state=")


def test_prompt_none_with_a_session_answers_a_code_in_the_query(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, _ = signed_in(server)
    pkce = Pkce()
    answer = browser.authorize(pkce, prompt="none")
    assert exchange(server, code_from(answer, pkce), pkce).status_code == 200


def test_prompt_none_without_a_session_answers_login_required_in_the_query(server: SandboxServer) -> None:
    pkce = Pkce()
    answer = redirect_query(Browser(server).authorize(pkce, prompt="none"))
    assert answer == {"error": "login_required", "error_description": "Login required", "state": pkce.state}


def test_web_message_posts_the_code_to_the_exact_origin_of_the_redirect_uri(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, _ = signed_in(server)
    pkce = Pkce()
    page = browser.authorize(pkce, prompt="none", response_mode="web_message")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "X-Frame-Options" not in page.headers  # the SDK loads it in a hidden iframe
    message, target = posted_message(page)
    assert target == SPA
    assert message["type"] == "authorization_response"
    assert set(message["response"]) == {"code", "state"}
    assert message["response"]["state"] == pkce.state
    assert exchange(server, message["response"]["code"], pkce).status_code == 200


def test_web_message_without_a_session_posts_login_required(server: SandboxServer) -> None:
    pkce = Pkce()
    page = Browser(server).authorize(pkce, prompt="none", response_mode="web_message")
    message, target = posted_message(page)
    assert target == SPA
    assert message == {
        "type": "authorization_response",
        "response": {"error": "login_required", "error_description": "Login required", "state": pkce.state},
    }


def test_web_message_escapes_the_state_inside_its_script(server: SandboxServer) -> None:
    pkce = Pkce()
    pkce.state = "</script><script>alert(1)</script>"
    page = Browser(server).authorize(pkce, prompt="none", response_mode="web_message")
    assert page.text.count("</script>") == 1
    message, _ = posted_message(page)
    assert message["response"]["state"] == pkce.state
    assert "'nonce-" in page.headers["Content-Security-Policy"]


def test_max_age_older_than_the_session_needs_a_new_login(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, _ = signed_in(server)
    time.sleep(1.1)
    answer = redirect_query(browser.authorize(Pkce(), prompt="none", max_age="0"))
    assert answer["error"] == "login_required"
