"""``/api/v2/connections``: the database connection (with ``disable_signup``), Google and passwordless e-mail;
connections made by name (checkpoint pages), changed, and their clients (a bare tenant has none until then)."""

from __future__ import annotations

from pathlib import Path

from sandbox.defaults import DEFAULT_TENANT_CLIENT_ID, DEFAULT_TENANT_CLIENT_SECRET
from sandbox.server import SandboxServer
from tests.integration.harness import free_port
from tests.sandbox.support import CONNECTION, api, fixture, machine_application, token_for

DATABASE = {"name": CONNECTION, "strategy": "auth0", "options": {"disable_signup": True}, "metadata": {"k": "v"}}
BUYER = {"email": "buyer@example.com", "connection": CONNECTION, "password": "correct horse battery"}


def test_the_database_connection_has_the_recorded_shape_and_says_sign_ups_are_off(server: SandboxServer) -> None:
    token = server.management_token(scope="read:connections read:connections_options")
    answer = api(server, "GET", "/api/v2/connections", token=token, params={"name": CONNECTION})

    (database,) = answer.json()
    (recorded,) = fixture("connections_database.json")
    assert answer.status_code == 200
    assert set(database) == set(recorded)
    assert set(database["options"]) == set(recorded["options"])
    assert database["options"]["disable_signup"] is True
    assert (database["name"], database["strategy"]) == (CONNECTION, "auth0")


def test_all_three_connections_are_listed_and_a_strategy_filters_them(server: SandboxServer) -> None:
    token = server.management_token(scope="read:connections")
    every = api(server, "GET", "/api/v2/connections", token=token).json()
    passwordless = api(server, "GET", "/api/v2/connections", token=token, params={"strategy": "email"}).json()

    assert sorted(connection["name"] for connection in every) == sorted([CONNECTION, "google-oauth2", "email"])
    assert [connection["name"] for connection in passwordless] == ["email"]


def test_reading_connections_needs_read_connections(server: SandboxServer) -> None:
    answer = api(server, "GET", "/api/v2/connections")  # the service's own scopes
    assert answer.status_code == 403


def test_a_bare_tenant_has_no_connection_and_creates_no_user_until_one_is_made(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    service = bare.management_token(scope="create:users")
    before = api(bare, "GET", "/api/v2/connections", token=bootstrap_token, params={"name": CONNECTION, "take": 50})
    refused = api(bare, "POST", "/api/v2/users", token=service, json=BUYER)

    created = api(bare, "POST", "/api/v2/connections", token=bootstrap_token, json=DATABASE)
    after = api(bare, "GET", "/api/v2/connections", token=bootstrap_token, params={"name": CONNECTION, "take": 50})

    assert before.json() == {"connections": []}
    assert (refused.status_code, refused.json()["errorCode"]) == (400, "inexistent_connection")
    assert created.status_code == 201
    assert after.json()["connections"] == [created.json()]
    assert created.json()["options"] == {"disable_signup": True}
    assert created.json()["id"].startswith("con_")
    assert api(bare, "POST", "/api/v2/users", token=service, json=BUYER).status_code == 201


def test_a_second_connection_of_the_same_name_is_a_409(bare: SandboxServer, bootstrap_token: str) -> None:
    api(bare, "POST", "/api/v2/connections", token=bootstrap_token, json=DATABASE)

    again = api(bare, "POST", "/api/v2/connections", token=bootstrap_token, json=DATABASE)

    assert again.status_code == 409
    assert len(bare.tenant.configuration.connections) == 1


def test_an_update_replaces_the_options_whole_and_clients_are_enabled_one_by_one(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    connection = api(bare, "POST", "/api/v2/connections", token=bootstrap_token, json=DATABASE).json()["id"]
    path = f"/api/v2/connections/{connection}"

    changed = api(bare, "PATCH", path, token=bootstrap_token, json={"options": {"brute_force_protection": True}})
    enabled = api(
        bare,
        "PATCH",
        f"{path}/clients",
        token=bootstrap_token,
        json=[{"client_id": "sandbox-tenant-client", "status": True}],
    )
    unknown = api(bare, "PATCH", f"{path}/clients", token=bootstrap_token, json=[{"client_id": "x", "status": True}])
    clients = api(bare, "GET", f"{path}/clients", token=bootstrap_token, params={"take": 50})

    assert changed.json()["options"] == {"brute_force_protection": True}
    assert enabled.status_code == 204
    assert unknown.status_code == 404
    assert clients.json() == {"clients": [{"client_id": "sandbox-tenant-client"}]}


def test_a_full_tenant_shows_its_own_connection_and_refuses_to_change_it(
    server: SandboxServer, check_token: str
) -> None:
    token = server.management_token(scope="read:connections update:connections update:connections_options")
    [own] = api(server, "GET", "/api/v2/connections", token=token, params={"name": CONNECTION}).json()

    refused = api(server, "PATCH", f"/api/v2/connections/{own['id']}", token=token, json={"options": {}})

    assert own["strategy"] == "auth0"
    assert refused.status_code == 400


def test_what_the_management_api_made_in_a_bare_tenant_is_there_after_a_restart(tmp_path: Path) -> None:
    state, port = tmp_path / "state.json", free_port()  # one port: the Management API's audience names it
    with SandboxServer(bare=True, state_path=state, port=port) as first:
        bootstrap = token_for(first, DEFAULT_TENANT_CLIENT_ID, DEFAULT_TENANT_CLIENT_SECRET)["access_token"]
        made = api(first, "POST", "/api/v2/connections", token=bootstrap, json=DATABASE).json()
        client_id, secret = machine_application(first, bootstrap)
        grant = {"client_id": client_id, "audience": first.management_audience, "scope": ["read:users"]}
        api(first, "POST", "/api/v2/client-grants", token=bootstrap, json=grant)

    with SandboxServer(bare=True, state_path=state, port=port) as again:
        bootstrap = token_for(again, DEFAULT_TENANT_CLIENT_ID, DEFAULT_TENANT_CLIENT_SECRET)["access_token"]
        listed = api(again, "GET", "/api/v2/connections", token=bootstrap, params={"name": CONNECTION}).json()
        service = api(again, "POST", "/api/v2/users", token=again.management_token(scope="create:users"), json=BUYER)

        assert listed == [made]
        assert token_for(again, client_id, secret)["scope"] == "read:users"
        assert service.status_code == 201  # the connection is one users can be made in, not only a listed record


def test_options_are_shown_only_with_read_connections_options_and_changed_only_with_update_connections_options(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    connection = api(bare, "POST", "/api/v2/connections", token=bootstrap_token, json=DATABASE).json()["id"]
    path = f"/api/v2/connections/{connection}"
    plain = bare.management_token(scope="read:connections update:connections")
    changer = bare.management_token(scope="read:connections update:connections update:connections_options")

    listed = api(bare, "GET", "/api/v2/connections", token=plain).json()
    one = api(bare, "GET", path, token=plain).json()
    refused = api(bare, "PATCH", path, token=plain, json={"options": {"disable_signup": False}})
    metadata = api(bare, "PATCH", path, token=plain, json={"metadata": {"k": "w"}})
    changed = api(bare, "PATCH", path, token=changer, json={"options": {"disable_signup": False}})
    shown = api(bare, "GET", path, token=bootstrap_token).json()

    assert [item["id"] for item in listed] == [connection]
    assert "options" not in listed[0]
    assert "options" not in one
    assert one["name"] == CONNECTION
    assert (refused.status_code, refused.json()) == (
        403,
        {
            "statusCode": 403,
            "error": "Forbidden",
            "message": "Insufficient scope, expected any of: update:connections_options",
            "errorCode": "insufficient_scope",
        },
    )
    assert (metadata.status_code, "options" in metadata.json()) == (200, False)
    assert (changed.status_code, "options" in changed.json()) == (200, False)
    assert shown["options"] == {"disable_signup": False}
    assert shown["metadata"] == {"k": "w"}
