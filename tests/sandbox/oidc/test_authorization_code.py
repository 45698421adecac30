"""``authorization_code`` with PKCE: verified tokens with the buyer's permissions, once, for the right client only."""

from __future__ import annotations

import requests

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    API_AUDIENCE,
    PERMISSION,
    SPA,
    TIMEOUT,
    Browser,
    Pkce,
    exchange,
    refresh,
    seed_buyer,
    token_request,
    verified,
)
from tests.sandbox.oidc.conftest import OTHER_SPA_CLIENT_ID


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


def test_a_code_exchanged_without_the_redirect_uri_it_was_issued_for_is_refused(server: SandboxServer) -> None:
    # RFC 6749 4.1.3: redirect_uri is required at the token endpoint when the authorization request had one.
    seed_buyer(server)
    for missing in (None, ""):
        pkce = Pkce()
        code = Browser(server).sign_in(pkce, "buyer@example.com")
        body = {
            "client_id": SPA_CLIENT_ID,
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": pkce.verifier,
        }
        if missing is not None:
            body["redirect_uri"] = missing
        refused = token_request(server, body)
        assert (refused.status_code, refused.json()["error"]) == (403, "invalid_grant"), missing
        assert "access_token" not in refused.json()
        assert exchange(server, code, pkce).status_code == 403  # used up


def test_a_code_is_refused_to_another_public_client_of_the_same_origin(two_spas: SandboxServer) -> None:
    seed_buyer(two_spas)
    browser = Browser(two_spas)
    own_pkce = Pkce()
    own_code = browser.sign_in(own_pkce, "buyer@example.com", client_id=OTHER_SPA_CLIENT_ID)
    assert exchange(two_spas, own_code, own_pkce, client_id=OTHER_SPA_CLIENT_ID).status_code == 200  # it is registered
    pkce = Pkce()
    code = Browser(two_spas).sign_in(pkce, "buyer@example.com")
    taken = exchange(two_spas, code, pkce, client_id=OTHER_SPA_CLIENT_ID)
    assert (taken.status_code, taken.json()["error"]) == (403, "invalid_grant")
    assert "access_token" not in taken.json()
