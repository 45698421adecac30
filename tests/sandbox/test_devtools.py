"""The dev-only ``/sandbox/`` endpoints: tokens for any user, limits, reset, and views that never show a hash."""

from __future__ import annotations

import json

import jwt
import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import new_buyer_ticket_url, seed_buyer, signed_in
from tests.sandbox.support import (
    API_AUDIENCE,
    OTHER_ROLE,
    PERMISSION,
    ROLE,
    TIMEOUT,
    api,
    create_buyer,
    dev,
    service_verifier,
)


def test_the_token_endpoint_for_a_user_follows_role_changes_and_verifies_against_the_jwks(
    server: SandboxServer,
) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    granted = dev(server, "POST", "token", json={"email": "Buyer@Example.com"}).json()
    api(server, "DELETE", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    revoked = dev(server, "POST", "token", json={"email": "buyer@example.com"}).json()
    assert (granted["token_type"], granted["expires_in"]) == ("Bearer", 86400)
    keys = jwt.PyJWKClient(server.jwks_url)
    claims = jwt.decode(
        granted["access_token"],
        keys.get_signing_key_from_jwt(granted["access_token"]).key,
        algorithms=["RS256"],
        audience=API_AUDIENCE,
        issuer=f"{server.base_url}/",
    )
    assert (claims["sub"], claims["permissions"]) == (user_id, [PERMISSION])
    assert not service_verifier(server).verify(revoked["access_token"]).grants(PERMISSION)


def test_the_token_endpoint_for_an_unknown_address_is_an_auth0_404(server: SandboxServer) -> None:
    answer = dev(server, "POST", "token", json={"email": "nobody@example.com"})
    assert (answer.status_code, answer.json()["errorCode"]) == (404, "inexistent_user")


def test_a_bad_rate_limit_configuration_is_refused(server: SandboxServer) -> None:
    for body in ({"rate_limit": -1}, {"rate_limit": "fast"}, {"rate_limit": 2, "burst": 0}, {"burst": 2}):
        answer = dev(server, "POST", "config", json=body)
        assert (answer.status_code, answer.json()["statusCode"]) == (400, 400)


def test_the_reset_endpoint_clears_users_faults_and_counters(server: SandboxServer) -> None:
    create_buyer(server)
    dev(server, "POST", "faults", json={"status": 500, "paths": "/oauth/token"})
    assert dev(server, "POST", "reset", headers={"Content-Type": "application/json"}).status_code == 204
    state = dev(server, "GET", "state").json()
    assert (state["users"], state["faults"]) == ([], [])
    assert [role["id"] for role in state["roles"]] == [ROLE, OTHER_ROLE]
    assert dev(server, "GET", "stats").json()["requests"] == {}


def test_dev_views_show_users_roles_and_permissions_but_no_password_hash(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    (user,) = dev(server, "GET", "users").json()["users"]
    state = dev(server, "GET", "state").text
    assert (user["permissions"], user["has_password"]) == ([PERMISSION], True)
    assert "password_hash" not in state
    assert "scrypt" not in state
    assert json.loads(state)["issuer"] == f"{server.base_url}/"


def test_the_state_view_counts_sessions_and_refresh_families_and_reset_forgets_them(server: SandboxServer) -> None:
    seed_buyer(server)
    signed_in(server)
    signed_in(server)
    state = requests.get(f"{server.base_url}/sandbox/state", timeout=TIMEOUT).json()
    assert state["sign_ins"] == {"sessions": 2, "refresh_token_families": 2}
    assert requests.post(f"{server.base_url}/sandbox/reset", json={}, timeout=TIMEOUT).status_code == 204
    after = requests.get(f"{server.base_url}/sandbox/state", timeout=TIMEOUT).json()
    assert after["sign_ins"] == {"sessions": 0, "refresh_token_families": 0}


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_the_outbox_answers_a_browser_with_a_page_whose_set_password_link_opens_the_ticket_page(
    server: SandboxServer,
) -> None:
    ticket_url = new_buyer_ticket_url(server, "o'brien+<new>@example.com")

    answer = requests.get(f"{server.base_url}/sandbox/outbox", headers={"Accept": BROWSER_ACCEPT}, timeout=TIMEOUT)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'<a href="{ticket_url}">Set a password</a>' in answer.text
    assert "Change your password</strong> to o&#x27;brien+&lt;new&gt;@example.com" in answer.text
    assert "<new>" not in answer.text
    assert answer.headers["X-Frame-Options"] == "DENY"
    followed = requests.get(ticket_url, headers={"Accept": BROWSER_ACCEPT}, timeout=TIMEOUT)
    assert followed.status_code == 200
    assert "Enter a new password for o&#x27;brien+&lt;new&gt;@example.com" in followed.text


def test_scripts_get_the_outbox_as_json_and_an_empty_one_reads_as_such_in_a_browser(server: SandboxServer) -> None:
    new_buyer_ticket_url(server, "script@example.com")

    for accept in (None, "*/*", "application/json", "application/json, text/html", "text/html;q=0, */*"):
        headers = {"Accept": accept} if accept else {}
        answer = requests.get(f"{server.base_url}/sandbox/outbox", headers=headers, timeout=TIMEOUT)
        assert answer.headers["Content-Type"].startswith("application/json"), accept
        assert [message["to"] for message in answer.json()["messages"]] == ["script@example.com"]
    empty = requests.get(
        f"{server.base_url}/sandbox/outbox",
        params={"to": "nobody@example.com"},
        headers={"Accept": BROWSER_ACCEPT},
        timeout=TIMEOUT,
    )
    assert "to nobody@example.com" in empty.text
    assert "No messages." in empty.text
