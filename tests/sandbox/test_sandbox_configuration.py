"""The tenant's configuration through the Management API (what `ops check` reads): client grants,
the API, roles and their permissions, in the shapes of the recordings, behind Auth0's scopes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
import requests
from auth0.authentication import GetToken
from auth0.management import Auth0

from sandbox.server import SandboxServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "auth0"
TIMEOUT = 5.0
API = "https://courses.local/api"
ROLE, PERMISSION = "rol_LocalServerless01", "read:course:serverless-handbook"
M2M_ID, M2M_SECRET = "sandbox-m2m-client", "sandbox-m2m-client-secret-not-a-real-secret"
CHECK_ID, CHECK_SECRET = "sandbox-check-client", "sandbox-check-client-secret-not-a-real-secret"
SERVICE_SCOPES = [
    "read:users",
    "update:users",
    "create:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
]
LIFETIME = 300


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def types_of(document: dict[str, Any]) -> dict[str, type]:
    return {key: type(value) for key, value in document.items()}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(token_lifetime_seconds=LIFETIME) as running:
        yield running


def token_for(server: SandboxServer, client_id: str, secret: str) -> dict[str, Any]:
    client = GetToken(server.domain, client_id, client_secret=secret, protocol="http", telemetry=False)
    answer: dict[str, Any] = client.client_credentials(audience=server.management_audience)
    return answer


@pytest.fixture(scope="module")
def check_token(server: SandboxServer) -> str:
    token: str = token_for(server, CHECK_ID, CHECK_SECRET)["access_token"]
    return token


def read(server: SandboxServer, path: str, token: str, **params: Any) -> requests.Response:
    return requests.get(
        f"{server.base_url}/api/v2{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )


def test_the_check_application_gets_exactly_the_three_read_scopes(server: SandboxServer) -> None:
    answer = token_for(server, CHECK_ID, CHECK_SECRET)
    assert answer["scope"] == "read:client_grants read:resource_servers read:roles"
    assert answer["expires_in"] == LIFETIME


def test_the_service_application_cannot_ask_for_the_check_scopes(server: SandboxServer) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_id": M2M_ID,
        "client_secret": M2M_SECRET,
        "audience": server.management_audience,
        "scope": "read:users read:client_grants",
    }
    answer = requests.post(f"{server.base_url}/oauth/token", json=fields, timeout=TIMEOUT)
    assert (answer.status_code, answer.json()["error"]) == (403, "access_denied")
    assert answer.json()["error_description"] == "Client has not been granted scopes: read:client_grants"
    assert token_for(server, M2M_ID, M2M_SECRET)["scope"] == " ".join(SERVICE_SCOPES)


def test_client_grants_have_the_recorded_shape_and_follow_the_filters(server: SandboxServer, check_token: str) -> None:
    answer = read(server, "/client-grants", check_token, client_id=M2M_ID, audience=server.management_audience)
    recorded = fixture("client_grants_management_api.json")

    assert answer.status_code == 200
    [grant] = answer.json()["client_grants"]
    assert set(answer.json()) == set(recorded)
    assert types_of(grant) == types_of(recorded["client_grants"][0])
    assert (grant["client_id"], grant["audience"]) == (M2M_ID, server.management_audience)
    assert grant["scope"] == SERVICE_SCOPES
    assert read(server, "/client-grants", check_token, audience=API).json() == fixture("client_grants_empty.json")
    assert len(read(server, "/client-grants", check_token).json()["client_grants"]) == 2


def test_client_grants_page_with_take_and_from(server: SandboxServer, check_token: str) -> None:
    first = read(server, "/client-grants", check_token, take=1).json()
    second = read(server, "/client-grants", check_token, take=1, **{"from": first["next"]}).json()

    assert len(first["client_grants"]) == len(second["client_grants"]) == 1
    assert "next" not in second
    assert first["client_grants"][0]["client_id"] != second["client_grants"][0]["client_id"]


def test_the_api_has_the_recorded_shape_rbac_on_and_the_lifetime_user_tokens_really_get(
    server: SandboxServer, check_token: str
) -> None:
    recorded = fixture("resource_server.json")
    by_identifier = read(server, f"/resource-servers/{quote(API, safe='')}", check_token)
    api = by_identifier.json()

    assert by_identifier.status_code == 200
    assert types_of(api) == types_of(recorded)
    assert (api["identifier"], api["enforce_policies"], api["token_dialect"]) == (API, True, "access_token_authz")
    assert api["token_lifetime"] == LIFETIME
    assert {scope["value"] for scope in api["scopes"]} == {PERMISSION, "read:course:pro-membership"}
    assert read(server, f"/resource-servers/{api['id']}", check_token).json() == api


def test_a_user_token_lives_as_long_as_the_api_says(server: SandboxServer, check_token: str) -> None:
    server.tenant.reset()
    requests.post(f"{server.base_url}/sandbox/users", json={"email": "life@example.com"}, timeout=TIMEOUT)
    claims = jwt.decode(server.user_token("life@example.com"), options={"verify_signature": False})
    api = read(server, f"/resource-servers/{quote(API, safe='')}", check_token).json()
    assert claims["exp"] - claims["iat"] == api["token_lifetime"]


def test_an_unknown_api_and_an_unknown_role_are_the_recorded_404s(server: SandboxServer, check_token: str) -> None:
    unknown_api = read(server, f"/resource-servers/{quote('https://nope.example/api', safe='')}", check_token)
    unknown_role = read(server, "/roles/rol_DoesNotExist00", check_token)

    assert (unknown_api.status_code, unknown_api.json()) == (404, fixture("error_404_resource_server.json"))
    assert (unknown_role.status_code, unknown_role.json()) == (404, fixture("error_404_role.json"))


def test_a_role_and_its_permissions_have_the_recorded_shapes(server: SandboxServer, check_token: str) -> None:
    role = read(server, f"/roles/{ROLE}", check_token).json()
    permissions = read(server, f"/roles/{ROLE}/permissions", check_token, include_totals="true", per_page=100)
    recorded = fixture("role_permissions.json")

    assert types_of(role) == types_of(fixture("role.json"))
    assert role["name"] == "course:serverless-handbook"
    assert set(permissions.json()) == set(recorded)
    [permission] = permissions.json()["permissions"]
    assert set(permission) == set(recorded["permissions"][0])
    assert (permission["permission_name"], permission["resource_server_identifier"]) == (PERMISSION, API)
    assert read(server, f"/roles/{ROLE}/permissions", check_token).json() == [permission]


def test_each_endpoint_needs_its_read_scope(server: SandboxServer) -> None:
    service_token = server.management_token()  # the service's six scopes: read:roles, but not the other two
    grants = read(server, "/client-grants", service_token)
    api = read(server, f"/resource-servers/{quote(API, safe='')}", service_token)

    assert (grants.status_code, grants.json()) == (403, fixture("error_403_read_client_grants.json"))
    assert api.status_code == 403
    assert api.json()["message"] == "Insufficient scope, expected any of: read:resource_servers"
    assert read(server, f"/roles/{ROLE}", service_token).status_code == 200


def test_auth0_python_reads_them_as_ops_check_does(server: SandboxServer, check_token: str) -> None:
    with httpx.Client(timeout=TIMEOUT) as http:
        client = Auth0(base_url=f"{server.base_url}/api/v2", token=check_token, max_retries=0, httpx_client=http)
        [grant] = list(client.client_grants.list(client_id=M2M_ID, audience=server.management_audience, take=100))
        api = client.resource_servers.get(API)
        role = client.roles.get(ROLE)
        page = client.roles.permissions.list(ROLE, per_page=100, page=0, include_totals=True)

    assert (grant.client_id, grant.allow_all_scopes, grant.scope) == (M2M_ID, None, SERVICE_SCOPES)
    assert (api.identifier, api.token_lifetime, api.enforce_policies) == (API, LIFETIME, True)
    assert role.name == "course:serverless-handbook"
    assert [(item.permission_name, item.resource_server_identifier) for item in page.items or []] == [(PERMISSION, API)]
