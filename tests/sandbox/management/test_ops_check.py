"""What ``python -m ops check`` reads (client grants, the API, roles), read as it reads them, behind their scopes."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from auth0.management import Auth0

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    API_AUDIENCE,
    LIFETIME,
    M2M_ID,
    PERMISSION,
    ROLE,
    SERVICE_SCOPES,
    TIMEOUT,
    fixture,
    read,
)


def test_an_unknown_api_and_an_unknown_role_are_the_recorded_404s(server: SandboxServer, check_token: str) -> None:
    unknown_api = read(server, f"/resource-servers/{quote('https://nope.example/api', safe='')}", check_token)
    unknown_role = read(server, "/roles/rol_DoesNotExist00", check_token)

    assert (unknown_api.status_code, unknown_api.json()) == (404, fixture("error_404_resource_server.json"))
    assert (unknown_role.status_code, unknown_role.json()) == (404, fixture("error_404_role.json"))


def test_each_endpoint_needs_its_read_scope(server: SandboxServer) -> None:
    service_token = server.management_token()  # the service's six scopes: read:roles, but not the other two
    grants = read(server, "/client-grants", service_token)
    api = read(server, f"/resource-servers/{quote(API_AUDIENCE, safe='')}", service_token)

    assert (grants.status_code, grants.json()) == (403, fixture("error_403_read_client_grants.json"))
    assert api.status_code == 403
    assert api.json()["message"] == "Insufficient scope, expected any of: read:resource_servers"
    assert read(server, f"/roles/{ROLE}", service_token).status_code == 200


def test_auth0_python_reads_them_as_ops_check_does(server: SandboxServer, check_token: str) -> None:
    with httpx.Client(timeout=TIMEOUT) as http:
        client = Auth0(base_url=f"{server.base_url}/api/v2", token=check_token, max_retries=0, httpx_client=http)
        [grant] = list(client.client_grants.list(client_id=M2M_ID, audience=server.management_audience, take=100))
        api = client.resource_servers.get(API_AUDIENCE)
        role = client.roles.get(ROLE)
        page = client.roles.permissions.list(ROLE, per_page=100, page=0, include_totals=True)

    assert (grant.client_id, grant.allow_all_scopes, grant.scope) == (M2M_ID, None, SERVICE_SCOPES)
    assert (api.identifier, api.token_lifetime, api.enforce_policies) == (API_AUDIENCE, LIFETIME, True)
    assert role.name == "course:serverless-handbook"
    assert [(item.permission_name, item.resource_server_identifier) for item in page.items or []] == [
        (PERMISSION, API_AUDIENCE)
    ]
