"""``GET /api/v2/connections``: the database connection (with ``disable_signup``), Google and passwordless e-mail."""

from __future__ import annotations

from sandbox.server import SandboxServer
from tests.sandbox.support import CONNECTION, api, fixture


def test_the_database_connection_has_the_recorded_shape_and_says_sign_ups_are_off(server: SandboxServer) -> None:
    token = server.management_token(scope="read:connections")
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
