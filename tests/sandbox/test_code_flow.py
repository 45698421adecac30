"""/authorize, the login page and the authorization_code grant, as auth0-spa-js drives them."""

from __future__ import annotations

import jwt
import requests

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    API_AUDIENCE,
    PASSWORD,
    PERMISSION,
    SPA,
    TIMEOUT,
    Browser,
    Pkce,
    code_from,
    exchange,
    posted_message,
    redirect_query,
    refresh,
    seed_buyer,
)


def verified(server: SandboxServer, token: str, audience: str) -> dict[str, object]:
    keys = jwt.PyJWKClient(f"{server.base_url}/.well-known/jwks.json")
    claims: dict[str, object] = jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=f"{server.base_url}/",
    )
    return claims


def test_discovery_names_every_endpoint_the_spa_sdk_needs(server: SandboxServer) -> None:
    discovery = requests.get(f"{server.base_url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    base = server.base_url
    assert discovery["issuer"] == f"{base}/"
    assert discovery["authorization_endpoint"] == f"{base}/authorize"
    assert discovery["token_endpoint"] == f"{base}/oauth/token"
    assert discovery["userinfo_endpoint"] == f"{base}/userinfo"
    assert discovery["end_session_endpoint"] == f"{base}/oidc/logout"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "refresh_token"} <= set(discovery["grant_types_supported"])
    assert "offline_access" in discovery["scopes_supported"]
    assert set(discovery["response_modes_supported"]) == {"query", "web_message"}


def test_a_pkce_sign_in_gives_verified_tokens_with_the_buyers_permissions(server: SandboxServer) -> None:
    user_id = seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    page = browser.login_page(pkce)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'name="username"' in page.text
    assert 'name="password"' in page.text
    code = browser.sign_in(pkce, "buyer@example.com")
    answer = exchange(server, code, pkce)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert (tokens["token_type"], tokens["scope"]) == ("Bearer", "openid profile email offline_access")
    assert tokens["expires_in"] == server.access_token_lifetime
    assert tokens["refresh_token"]
    identity = verified(server, tokens["id_token"], SPA_CLIENT_ID)
    assert (identity["sub"], identity["nonce"], identity["email"]) == (user_id, pkce.nonce, "buyer@example.com")
    assert isinstance(identity["auth_time"], int)
    access = verified(server, tokens["access_token"], API_AUDIENCE)
    assert access["aud"] == [API_AUDIENCE, f"{server.base_url}/userinfo"]
    assert (access["sub"], access["azp"], access["permissions"]) == (user_id, SPA_CLIENT_ID, [PERMISSION])


def test_the_token_endpoint_also_takes_the_json_body_some_sdks_send(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    code = browser.sign_in(pkce, "buyer@example.com")
    body = {
        "client_id": SPA_CLIENT_ID,
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": pkce.verifier,
        "redirect_uri": SPA,
    }
    answer = requests.post(f"{server.base_url}/oauth/token", json=body, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text


def test_a_code_works_once_and_its_reuse_revokes_the_refresh_token_it_gave(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    code = browser.sign_in(pkce, "buyer@example.com")
    first = exchange(server, code, pkce)
    again = exchange(server, code, pkce)
    assert first.status_code == 200
    assert (again.status_code, again.json()["error"]) == (403, "invalid_grant")
    refreshed = refresh(server, first.json()["refresh_token"])
    assert (refreshed.status_code, refreshed.json()["error"]) == (403, "invalid_grant")


def test_a_wrong_verifier_or_redirect_uri_is_refused_and_uses_the_code_up(server: SandboxServer) -> None:
    seed_buyer(server)
    wrong = {"code_verifier": Pkce().verifier, "redirect_uri": "http://127.0.0.1:3000/elsewhere"}
    for name, value in wrong.items():
        pkce = Pkce()
        code = Browser(server).sign_in(pkce, "buyer@example.com")
        refused = exchange(server, code, pkce, **{name: value})
        assert (refused.status_code, refused.json()["error"]) == (403, "invalid_grant"), name
        assert exchange(server, code, pkce).status_code == 403, name


def test_a_code_is_refused_to_any_other_client(server: SandboxServer) -> None:
    seed_buyer(server)
    pkce = Pkce()
    code = Browser(server).sign_in(pkce, "buyer@example.com")
    without_secret = exchange(server, code, pkce, client_id="sandbox-login-client")
    with_secret = exchange(
        server,
        code,
        pkce,
        client_id="sandbox-login-client",
        client_secret="sandbox-login-client-secret-not-a-real-secret",
    )
    unknown = exchange(server, code, pkce, client_id="somebody-else")
    assert (without_secret.status_code, without_secret.json()["error"]) == (401, "access_denied")
    assert (with_secret.status_code, with_secret.json()["error"]) == (403, "unauthorized_client")
    assert (unknown.status_code, unknown.json()["error"]) == (401, "access_denied")
    assert "access_token" not in with_secret.json()


def test_a_missing_verifier_is_refused(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    code = browser.sign_in(pkce, "buyer@example.com")
    refused = exchange(server, code, pkce, code_verifier="")
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "invalid_grant", "error_description": "Failed to verify code verifier"},
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
