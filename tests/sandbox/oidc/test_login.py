"""The login page: Auth0's messages, brute-force protection, one sign-in per page, the session cookie, no login CSRF."""

from __future__ import annotations

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    PASSWORD,
    SPA,
    Browser,
    Pkce,
    code_from,
    exchange,
    posted_message,
    seed_buyer,
)


def test_a_wrong_password_shows_the_message_and_sets_no_session(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    page = browser.login_page(pkce)
    refused = browser.submit(page, "buyer@example.com", "not the password")
    assert refused.status_code == 400
    assert "Wrong email or password." in refused.text
    assert "Set-Cookie" not in refused.headers
    assert browser.session_cookie() is None
    retried = browser.submit(refused, "buyer@example.com", PASSWORD)
    assert exchange(server, code_from(retried, pkce), pkce).status_code == 200


def test_ten_wrong_passwords_block_the_login_page_for_that_ip(server: SandboxServer) -> None:
    seed_buyer(server)
    browser = Browser(server)
    page = browser.login_page(Pkce())
    for _ in range(10):
        page = browser.submit(page, "buyer@example.com", "not the password")
        assert page.status_code == 400
    blocked = browser.submit(page, "buyer@example.com", PASSWORD)
    assert blocked.status_code == 429
    assert "blocked" in blocked.text
    assert browser.session_cookie() is None
    outcomes = [login["outcome"] for login in server.tenant.logins]
    assert outcomes[-1] == "blocked"
    assert server.tenant.logins[-1]["client_id"] == SPA_CLIENT_ID


def test_a_login_page_signs_in_once(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    page = browser.login_page(pkce)
    assert browser.submit(page, "buyer@example.com", PASSWORD).status_code == 302
    replayed = browser.submit(page, "buyer@example.com", PASSWORD)
    assert replayed.status_code == 400
    assert "Location" not in replayed.headers


def test_the_login_page_escapes_what_it_shows(server: SandboxServer) -> None:
    page = Browser(server).login_page(Pkce(), login_hint='"><script>alert(1)</script>')
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_session_cookie_is_http_only_and_same_site_lax(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    answered = browser.submit(browser.login_page(pkce), "buyer@example.com", PASSWORD)
    cookie = answered.headers["Set-Cookie"]
    assert cookie.startswith("auth0=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie


def test_a_blocked_user_sees_that_on_the_login_page_and_gets_no_session(server: SandboxServer) -> None:
    user_id = seed_buyer(server)
    server.tenant.update_user(user_id, {"blocked": True})
    browser = Browser(server)
    refused = browser.submit(browser.login_page(Pkce()), "buyer@example.com", PASSWORD)
    assert refused.status_code == 401
    assert "blocked" in refused.text
    assert browser.session_cookie() is None


def test_a_popup_login_posts_the_code_back_as_a_web_message(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    page = browser.login_page(pkce, response_mode="web_message")
    answered = browser.submit(page, "buyer@example.com", PASSWORD)
    assert answered.status_code == 200
    message, target = posted_message(answered)
    assert (target, message["response"]["state"]) == (SPA, pkce.state)
    assert exchange(server, message["response"]["code"], pkce).status_code == 200


def test_a_login_form_posted_from_another_site_s_page_signs_nobody_in(server: SandboxServer) -> None:
    seed_buyer(server)
    browser = Browser(server)
    page = browser.login_page(Pkce())
    browser.http.headers["Origin"] = "https://evil.example"
    refused = browser.submit(page, "buyer@example.com", PASSWORD)
    assert refused.status_code == 403
    assert "Set-Cookie" not in refused.headers
    browser.http.headers["Origin"] = server.base_url  # what a browser sends from the sandbox's own page
    assert browser.submit(page, "buyer@example.com", PASSWORD).status_code == 302


def test_the_login_page_keeps_its_url_to_itself_but_lets_its_form_name_its_origin(server: SandboxServer) -> None:
    # "no-referrer" would make Chromium send Origin: null on the form's POST, which the login refuses.
    page = Browser(server).login_page(Pkce())
    assert page.headers["Referrer-Policy"] == "same-origin"
