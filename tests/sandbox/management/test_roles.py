"""``GET /api/v2/roles/{id}`` and ``/permissions``: a course's role and its one permission, as recorded."""

from __future__ import annotations

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    API_AUDIENCE,
    PERMISSION,
    ROLE,
    fixture,
    read,
    types_of,
)


def test_a_role_and_its_permissions_have_the_recorded_shapes(server: SandboxServer, check_token: str) -> None:
    role = read(server, f"/roles/{ROLE}", check_token).json()
    permissions = read(server, f"/roles/{ROLE}/permissions", check_token, include_totals="true", per_page=100)
    recorded = fixture("role_permissions.json")

    assert types_of(role) == types_of(fixture("role.json"))
    assert role["name"] == "course:serverless-handbook"
    assert set(permissions.json()) == set(recorded)
    [permission] = permissions.json()["permissions"]
    assert set(permission) == set(recorded["permissions"][0])
    assert (permission["permission_name"], permission["resource_server_identifier"]) == (PERMISSION, API_AUDIENCE)
    assert read(server, f"/roles/{ROLE}/permissions", check_token).json() == [permission]
