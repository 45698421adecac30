"""``GET /api/v2/roles/{id}`` and ``/permissions``: a course's role and its one permission, as recorded."""

from __future__ import annotations

from sandbox.server import SandboxServer
from sandbox.tenant.seeding import seed_user
from tests.sandbox.support import (
    API_AUDIENCE,
    CONNECTION,
    PERMISSION,
    ROLE,
    api,
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


def test_a_created_role_takes_one_permission_of_an_existing_api_and_it_lands_in_tokens(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    scopes = [{"value": PERMISSION, "description": "the handbook"}]
    api(
        bare,
        "POST",
        "/api/v2/resource-servers",
        token=bootstrap_token,
        json={"identifier": API_AUDIENCE, "scopes": scopes},
    )
    role = api(bare, "POST", "/api/v2/roles", token=bootstrap_token, json={"name": "course:x", "description": "d"})
    role_id = role.json()["id"]
    path = f"/api/v2/roles/{role_id}/permissions"
    unknown = [{"resource_server_identifier": API_AUDIENCE, "permission_name": "read:course:other"}]
    wanted = [{"resource_server_identifier": API_AUDIENCE, "permission_name": PERMISSION}]

    assert role.status_code == 200
    assert role_id.startswith("rol_")
    assert api(bare, "POST", path, token=bootstrap_token, json={"permissions": unknown}).status_code == 400
    assert api(bare, "POST", path, token=bootstrap_token, json={"permissions": wanted}).status_code == 201
    listed = api(bare, "GET", path, token=bootstrap_token).json()
    assert [(item["permission_name"], item["resource_server_identifier"]) for item in listed] == [
        (PERMISSION, API_AUDIENCE)
    ]
    api(bare, "POST", "/api/v2/connections", token=bootstrap_token, json={"name": CONNECTION, "strategy": "auth0"})
    user = seed_user(
        bare.tenant, email="b@example.com", connection=CONNECTION, password=None, role_ids=[role_id], app_metadata=None
    )
    assert bare.tenant.permissions_of(user) == [PERMISSION]
    assert bare.tenant.describe_user(user)["permissions"] == [PERMISSION]
    assert api(bare, "DELETE", path, token=bootstrap_token, json={"permissions": wanted}).status_code == 204
    assert bare.tenant.permissions_of(user) == []
    assert bare.tenant.describe_user(user)["permissions"] == []  # the role holds no permission: none is shown


def test_roles_are_listed_by_page_and_a_name_is_taken_once(bare: SandboxServer, bootstrap_token: str) -> None:
    for name in ("course:a", "course:b"):
        api(bare, "POST", "/api/v2/roles", token=bootstrap_token, json={"name": name})

    again = api(bare, "POST", "/api/v2/roles", token=bootstrap_token, json={"name": "course:a"})
    page = api(
        bare, "GET", "/api/v2/roles", token=bootstrap_token, params={"per_page": 1, "page": 1, "include_totals": "true"}
    )
    renamed = api(
        bare,
        "PATCH",
        f"/api/v2/roles/{page.json()['roles'][0]['id']}",
        token=bootstrap_token,
        json={"description": "new"},
    )

    assert again.status_code == 409
    assert page.json()["total"] == 2
    assert [role["name"] for role in page.json()["roles"]] == ["course:b"]
    assert renamed.json()["description"] == "new"


def test_a_role_without_a_name_is_refused_and_none_is_made(bare: SandboxServer, bootstrap_token: str) -> None:
    made = api(bare, "POST", "/api/v2/roles", token=bootstrap_token, json={"name": "course:a"}).json()

    created = api(bare, "POST", "/api/v2/roles", token=bootstrap_token, json={"name": ""})
    renamed = api(bare, "PATCH", f"/api/v2/roles/{made['id']}", token=bootstrap_token, json={"name": ""})

    for refused in (created, renamed):
        assert (refused.status_code, refused.json()) == (
            400,
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "Payload validation error: 'String is too short (0 chars), minimum 1' on property name.",
                "errorCode": "invalid_body",
            },
        )
    assert [role.name for role in bare.tenant.roles.values()] == ["course:a"]


def test_a_role_holds_one_permission_and_a_second_one_is_refused(bare: SandboxServer, bootstrap_token: str) -> None:
    scopes = [{"value": PERMISSION, "description": "one"}, {"value": "read:course:other", "description": "two"}]
    api(
        bare,
        "POST",
        "/api/v2/resource-servers",
        token=bootstrap_token,
        json={"identifier": API_AUDIENCE, "scopes": scopes},
    )
    role = api(bare, "POST", "/api/v2/roles", token=bootstrap_token, json={"name": "course:x"}).json()
    path = f"/api/v2/roles/{role['id']}/permissions"
    first = [{"resource_server_identifier": API_AUDIENCE, "permission_name": PERMISSION}]
    second = [{"resource_server_identifier": API_AUDIENCE, "permission_name": "read:course:other"}]

    added = api(bare, "POST", path, token=bootstrap_token, json={"permissions": first})
    again = api(bare, "POST", path, token=bootstrap_token, json={"permissions": first})
    refused = api(bare, "POST", path, token=bootstrap_token, json={"permissions": second})
    both = api(bare, "POST", path, token=bootstrap_token, json={"permissions": [*first, *second]})

    assert [added.status_code, again.status_code] == [201, 201]
    for answer in (refused, both):
        assert (answer.status_code, answer.json()) == (
            400,
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": f"Payload validation error: the sandbox's role course:x holds one permission ({PERMISSION})",
                "errorCode": "invalid_body",
            },
        )
    listed = api(bare, "GET", path, token=bootstrap_token).json()
    assert [item["permission_name"] for item in listed] == [PERMISSION]
