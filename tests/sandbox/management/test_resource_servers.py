"""``GET /api/v2/resource-servers/{id}``: the API with RBAC on and the lifetime user tokens really get."""

from __future__ import annotations

from urllib.parse import quote

import jwt
import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import claims_of, seed_buyer
from tests.sandbox.support import (
    API_AUDIENCE,
    LIFETIME,
    PERMISSION,
    TIMEOUT,
    api,
    fixture,
    read,
    types_of,
)


def test_the_api_has_the_recorded_shape_rbac_on_and_the_lifetime_user_tokens_really_get(
    server: SandboxServer, check_token: str
) -> None:
    recorded = fixture("resource_server.json")
    by_identifier = read(server, f"/resource-servers/{quote(API_AUDIENCE, safe='')}", check_token)
    api = by_identifier.json()

    assert by_identifier.status_code == 200
    assert types_of(api) == types_of(recorded)
    assert (api["identifier"], api["enforce_policies"], api["token_dialect"]) == (
        API_AUDIENCE,
        True,
        "access_token_authz",
    )
    assert api["token_lifetime"] == LIFETIME
    assert {scope["value"] for scope in api["scopes"]} == {PERMISSION, "read:course:pro-membership"}
    assert read(server, f"/resource-servers/{api['id']}", check_token).json() == api


def test_a_user_token_lives_as_long_as_the_api_says(server: SandboxServer, check_token: str) -> None:
    server.tenant.reset()
    requests.post(f"{server.base_url}/sandbox/users", json={"email": "life@example.com"}, timeout=TIMEOUT)
    claims = jwt.decode(server.user_token("life@example.com"), options={"verify_signature": False})
    api = read(server, f"/resource-servers/{quote(API_AUDIENCE, safe='')}", check_token).json()
    assert claims["exp"] - claims["iat"] == api["token_lifetime"]


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


def test_a_bare_tenant_has_no_api_until_one_is_created_then_updated(bare: SandboxServer, bootstrap_token: str) -> None:
    path = "/api/v2/resource-servers"
    missing = api(bare, "GET", f"{path}/{quote(API_AUDIENCE, safe='')}", token=bootstrap_token)
    body = {"identifier": API_AUDIENCE, "name": "Courses", "enforce_policies": True, "token_lifetime": 600}

    created = api(bare, "POST", path, token=bootstrap_token, json=body)
    again = api(bare, "POST", path, token=bootstrap_token, json=body)
    changed = api(bare, "PATCH", f"{path}/{created.json()['id']}", token=bootstrap_token, json={"token_lifetime": 300})
    listed = api(bare, "GET", path, token=bootstrap_token).json()

    assert (missing.status_code, missing.json()["errorCode"]) == (404, "inexistent_resource_server")
    assert created.status_code == 201
    assert types_of(created.json()) == types_of(fixture("resource_server.json"))
    assert again.status_code == 409
    assert changed.json()["token_lifetime"] == 300
    assert [server["identifier"] for server in listed] == [bare.management_audience, API_AUDIENCE]
    bad = api(bare, "PATCH", f"{path}/{created.json()['id']}", token=bootstrap_token, json={"token_lifetime": "long"})
    assert bad.status_code == 400


def test_a_token_lifetime_outside_auth0s_bounds_is_refused_and_nothing_changes(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    path = "/api/v2/resource-servers"
    made = api(bare, "POST", path, token=bootstrap_token, json={"identifier": API_AUDIENCE, "token_lifetime": 600})
    kept = {key: dict(value) for key, value in bare.tenant.configuration.apis.items()}
    answers = {
        lifetime: (
            api(
                bare, "POST", path, token=bootstrap_token, json={"identifier": "https://b", "token_lifetime": lifetime}
            ),
            api(bare, "PATCH", f"{path}/{made.json()['id']}", token=bootstrap_token, json={"token_lifetime": lifetime}),
        )
        for lifetime in (-5, 0, 2_592_001)
    }

    assert answers[-5][0].json()["message"] == (
        "Payload validation error: 'Value -5 is less than minimum 1' on property token_lifetime."
    )
    assert answers[2_592_001][1].json()["message"] == (
        "Payload validation error: 'Value 2592001 is greater than maximum 2592000' on property token_lifetime."
    )
    for created, changed in answers.values():
        assert (created.status_code, created.json()["errorCode"]) == (400, "invalid_body")
        assert (changed.status_code, changed.json()["errorCode"]) == (400, "invalid_body")
    assert bare.tenant.configuration.apis == kept
    edges = [
        api(bare, "PATCH", f"{path}/{made.json()['id']}", token=bootstrap_token, json={"token_lifetime": lifetime})
        for lifetime in (1, 2_592_000)
    ]
    assert [edge.status_code for edge in edges] == [200, 200]


def test_the_sandboxs_own_api_is_not_changed_through_the_management_api(server: SandboxServer) -> None:
    token = server.management_token(scope="read:resource_servers update:resource_servers")
    path = f"/api/v2/resource-servers/{quote(API_AUDIENCE, safe='')}"
    before = api(server, "GET", path, token=token).json()

    refused = api(server, "PATCH", path, token=token, json={"token_lifetime": 60, "enforce_policies": False})

    assert (refused.status_code, refused.json()) == (
        400,
        {
            "statusCode": 400,
            "error": "Bad Request",
            "message": "The sandbox's own API is changed by its settings, not here",
            "errorCode": "invalid_body",
        },
    )
    assert api(server, "GET", path, token=token).json() == before
    assert server.tenant.configuration.apis == {}
