"""``refresh_token`` with rotation: a used token revokes its family; the permissions are those of the moment."""

from __future__ import annotations

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    API_AUDIENCE,
    PERMISSION,
    ROLE,
    Browser,
    Pkce,
    claims_of,
    exchange,
    refresh,
    revoke,
    seed_buyer,
    signed_in,
)
from tests.sandbox.oidc.conftest import OTHER_SPA_CLIENT_ID


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
    assert revoke(server, tokens["refresh_token"]).status_code == 200
    assert refresh(server, tokens["refresh_token"]).status_code == 403


def test_a_blocked_user_can_no_longer_refresh(server: SandboxServer) -> None:
    user_id = seed_buyer(server)
    _, tokens = signed_in(server)
    server.tenant.update_user(user_id, {"blocked": True})
    refused = refresh(server, tokens["refresh_token"])
    assert (refused.status_code, refused.json()["error_description"]) == (401, "user is blocked")


def test_a_refresh_may_narrow_the_scope_but_never_widen_it_beyond_the_sign_in(server: SandboxServer) -> None:
    seed_buyer(server)
    browser, pkce = Browser(server), Pkce()
    code = browser.sign_in(pkce, "buyer@example.com", scope="openid email offline_access")
    signed = exchange(server, code, pkce).json()
    assert signed["scope"] == "openid email offline_access"
    widened = refresh(server, signed["refresh_token"], scope="openid profile email offline_access read:users").json()
    assert widened["scope"] == "openid email offline_access"
    assert claims_of(widened["access_token"])["scope"] == "openid email offline_access"
    assert "name" not in claims_of(widened["id_token"])
    narrowed = refresh(server, widened["refresh_token"], scope="openid offline_access").json()
    assert narrowed["scope"] == "openid offline_access"
    assert "email" not in claims_of(narrowed["id_token"])
    # The rotated refresh token still stands for the sign-in's grant, and no more.
    again = refresh(server, narrowed["refresh_token"], scope="openid profile email offline_access").json()
    assert again["scope"] == "openid email offline_access"


def test_a_refresh_token_is_refused_to_another_public_client_and_not_revoked_by_it(two_spas: SandboxServer) -> None:
    seed_buyer(two_spas)
    _, tokens = signed_in(two_spas)
    taken = refresh(two_spas, tokens["refresh_token"], client_id=OTHER_SPA_CLIENT_ID)
    assert (taken.status_code, taken.json()["error"]) == (403, "invalid_grant")
    assert revoke(two_spas, tokens["refresh_token"], OTHER_SPA_CLIENT_ID).status_code == 200
    assert refresh(two_spas, tokens["refresh_token"]).status_code == 200
