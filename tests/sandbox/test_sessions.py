"""Silent authentication, refresh-token rotation, /userinfo and logout, as auth0-spa-js uses them."""

from __future__ import annotations

import time
from urllib.parse import quote

import jwt
import requests

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    API_AUDIENCE,
    PERMISSION,
    ROLE,
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


def signed_in(server: SandboxServer, email: str = "buyer@example.com") -> tuple[Browser, dict[str, str]]:
    browser, pkce = Browser(server), Pkce()
    answer = exchange(server, browser.sign_in(pkce, email), pkce)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return browser, tokens


def claims_of(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


# --- silent authentication (prompt=none) -------------------------------------------------------------


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


# --- refresh tokens ----------------------------------------------------------------------------------


def test_each_refresh_rotates_the_refresh_token_and_returns_an_id_token(server: SandboxServer) -> None:
    user_id = seed_buyer(server)
    _, tokens = signed_in(server)
    first = refresh(server, tokens["refresh_token"])
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert claims_of(rotated["id_token"])["sub"] == user_id
    assert claims_of(rotated["id_token"])["aud"] == SPA_CLIENT_ID
    assert "nonce" not in claims_of(rotated["id_token"])
    second = refresh(server, rotated["refresh_token"])
    assert second.status_code == 200, second.text


def test_a_used_refresh_token_is_refused_and_revokes_its_whole_family(server: SandboxServer) -> None:
    seed_buyer(server)
    _, tokens = signed_in(server)
    rotated = refresh(server, tokens["refresh_token"]).json()["refresh_token"]
    reused = refresh(server, tokens["refresh_token"])
    assert (reused.status_code, reused.json()) == (
        403,
        {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."},
    )
    latest = refresh(server, rotated)
    assert (latest.status_code, latest.json()["error"]) == (403, "invalid_grant")


def test_another_sign_in_keeps_its_own_refresh_token_family(server: SandboxServer) -> None:
    seed_buyer(server)
    _, mine = signed_in(server)
    _, theirs = signed_in(server)
    refresh(server, mine["refresh_token"])
    refresh(server, mine["refresh_token"])  # reuse: my family goes
    assert refresh(server, theirs["refresh_token"]).status_code == 200


def test_a_refreshed_access_token_carries_the_permissions_of_that_moment(server: SandboxServer) -> None:
    user_id = seed_buyer(server)
    _, tokens = signed_in(server)
    assert claims_of(tokens["access_token"])["permissions"] == [PERMISSION]
    server.tenant.remove_roles(user_id, [ROLE])  # the refund
    refreshed = refresh(server, tokens["refresh_token"]).json()
    assert claims_of(refreshed["access_token"])["permissions"] == []
    assert claims_of(refreshed["access_token"])["aud"] == [API_AUDIENCE, f"{server.base_url}/userinfo"]


def test_a_refresh_token_for_another_client_or_made_up_is_refused(server: SandboxServer) -> None:
    seed_buyer(server)
    _, tokens = signed_in(server)
    made_up = refresh(server, "v1.not-a-refresh-token")
    other = refresh(
        server,
        tokens["refresh_token"],
        client_id="sandbox-login-client",
        client_secret="sandbox-login-client-secret-not-a-real-secret",
    )
    assert (made_up.status_code, made_up.json()["error"]) == (403, "invalid_grant")
    assert (other.status_code, other.json()["error"]) == (403, "unauthorized_client")
    assert refresh(server, tokens["refresh_token"]).status_code == 200


def test_no_refresh_token_without_offline_access(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    code = browser.sign_in(pkce, "buyer@example.com", scope="openid profile email")
    tokens = exchange(server, code, pkce).json()
    assert "refresh_token" not in tokens
    assert tokens["scope"] == "openid profile email"


def test_a_revoked_refresh_token_no_longer_refreshes(server: SandboxServer) -> None:
    seed_buyer(server)
    _, tokens = signed_in(server)
    revoked = requests.post(
        f"{server.base_url}/oauth/revoke",
        data={"client_id": SPA_CLIENT_ID, "token": tokens["refresh_token"]},
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200
    assert refresh(server, tokens["refresh_token"]).status_code == 403


def test_a_blocked_user_can_no_longer_refresh(server: SandboxServer) -> None:
    user_id = seed_buyer(server)
    _, tokens = signed_in(server)
    server.tenant.update_user(user_id, {"blocked": True})
    refused = refresh(server, tokens["refresh_token"])
    assert (refused.status_code, refused.json()["error_description"]) == (401, "user is blocked")


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


# --- /userinfo ---------------------------------------------------------------------------------------


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


# --- logout ------------------------------------------------------------------------------------------


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


def test_the_state_view_counts_sessions_and_refresh_families_and_reset_forgets_them(server: SandboxServer) -> None:
    seed_buyer(server)
    signed_in(server)
    signed_in(server)
    state = requests.get(f"{server.base_url}/sandbox/state", timeout=TIMEOUT).json()
    assert state["sign_ins"] == {"sessions": 2, "refresh_token_families": 2}
    assert requests.post(f"{server.base_url}/sandbox/reset", json={}, timeout=TIMEOUT).status_code == 204
    after = requests.get(f"{server.base_url}/sandbox/state", timeout=TIMEOUT).json()
    assert after["sign_ins"] == {"sessions": 0, "refresh_token_families": 0}


def test_the_api_reports_the_people_token_lifetime_and_allows_offline_access() -> None:
    with SandboxServer(port=0, state_path=None, access_token_lifetime=90) as short:
        seed_buyer(short)
        reader = {"Authorization": f"Bearer {short.management_token(scope='read:resource_servers')}"}
        servers = f"{short.base_url}/api/v2/resource-servers"
        api = requests.get(f"{servers}/{quote(API_AUDIENCE, safe='')}", headers=reader, timeout=TIMEOUT).json()
        management = requests.get(
            f"{servers}/{quote(short.management_audience, safe='')}", headers=reader, timeout=TIMEOUT
        ).json()
        dev = requests.post(f"{short.base_url}/sandbox/token", json={"email": "buyer@example.com"}, timeout=TIMEOUT)
        helper = claims_of(short.user_token("buyer@example.com"))
    assert (api["token_lifetime"], api["allow_offline_access"]) == (90, True)
    assert management["token_lifetime"] == 86400
    assert dev.json()["expires_in"] == 90
    assert int(str(helper["exp"])) - int(str(helper["iat"])) == 90
