"""``GET /api/v2/client-grants``: the grants the tenant really applies, in the recorded shape, paged as Auth0 pages."""

from __future__ import annotations

import pytest
from auth0.authentication.exceptions import Auth0Error

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    API_AUDIENCE,
    M2M_ID,
    SERVICE_SCOPES,
    api,
    fixture,
    machine_application,
    read,
    token_for,
    types_of,
)


def test_client_grants_have_the_recorded_shape_and_follow_the_filters(server: SandboxServer, check_token: str) -> None:
    answer = read(server, "/client-grants", check_token, client_id=M2M_ID, audience=server.management_audience)
    recorded = fixture("client_grants_management_api.json")

    assert answer.status_code == 200
    [grant] = answer.json()["client_grants"]
    assert set(answer.json()) == set(recorded)
    assert types_of(grant) == types_of(recorded["client_grants"][0])
    assert (grant["client_id"], grant["audience"]) == (M2M_ID, server.management_audience)
    assert grant["scope"] == SERVICE_SCOPES
    assert read(server, "/client-grants", check_token, audience=API_AUDIENCE).json() == fixture(
        "client_grants_empty.json"
    )
    assert len(read(server, "/client-grants", check_token).json()["client_grants"]) == 2


def test_client_grants_page_with_take_and_from(server: SandboxServer, check_token: str) -> None:
    first = read(server, "/client-grants", check_token, take=1).json()
    second = read(server, "/client-grants", check_token, take=1, **{"from": first["next"]}).json()

    assert len(first["client_grants"]) == len(second["client_grants"]) == 1
    assert "next" not in second
    assert first["client_grants"][0]["client_id"] != second["client_grants"][0]["client_id"]


def test_a_created_grant_gives_a_created_application_tokens_with_exactly_its_scopes(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    client_id, secret = machine_application(bare, bootstrap_token)
    body = {"client_id": client_id, "audience": bare.management_audience, "scope": ["read:users"]}

    created = api(bare, "POST", "/api/v2/client-grants", token=bootstrap_token, json=body)
    again = api(bare, "POST", "/api/v2/client-grants", token=bootstrap_token, json=body)
    first = token_for(bare, client_id, secret)["scope"]
    grant = f"/api/v2/client-grants/{created.json()['id']}"
    changed = api(bare, "PATCH", grant, token=bootstrap_token, json={"scope": ["read:users", "update:users"]})
    listed = read(bare, "/client-grants", bootstrap_token, client_id=client_id).json()["client_grants"]

    assert created.status_code == 201
    assert types_of(created.json()) == types_of(fixture("client_grants_management_api.json")["client_grants"][0])
    assert again.status_code == 409
    assert first == "read:users"
    assert changed.json()["scope"] == ["read:users", "update:users"]
    assert token_for(bare, client_id, secret)["scope"] == "read:users update:users"
    assert listed == [changed.json()]


def test_a_grant_on_another_api_gives_no_management_api_token_whatever_its_scopes(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    scopes = [{"value": "read:users", "description": "a course API's scope that happens to share the name"}]
    api(
        bare,
        "POST",
        "/api/v2/resource-servers",
        token=bootstrap_token,
        json={"identifier": API_AUDIENCE, "scopes": scopes},
    )
    client_id, secret = machine_application(bare, bootstrap_token)
    body = {"client_id": client_id, "audience": API_AUDIENCE, "scope": ["read:users"]}

    created = api(bare, "POST", "/api/v2/client-grants", token=bootstrap_token, json=body)
    with pytest.raises(Auth0Error) as refused:
        token_for(bare, client_id, secret)  # asks for the Management API

    assert created.status_code == 201
    assert (refused.value.status_code, refused.value.error_code) == (403, "access_denied")


def test_a_grant_for_an_unknown_application_or_api_is_a_404_and_nothing_is_granted(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    made = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json={"name": "s"}).json()["client_id"]
    unknown_client = {"client_id": "no-such-client", "audience": bare.management_audience, "scope": ["read:users"]}
    unknown_api = {"client_id": made, "audience": "https://nowhere.example/api", "scope": ["read:users"]}

    client = api(bare, "POST", "/api/v2/client-grants", token=bootstrap_token, json=unknown_client)
    audience = api(bare, "POST", "/api/v2/client-grants", token=bootstrap_token, json=unknown_api)

    assert (client.status_code, client.json()) == (
        404,
        {
            "statusCode": 404,
            "error": "Not Found",
            "message": "The client does not exist",
            "errorCode": "inexistent_client",
        },
    )
    assert (audience.status_code, audience.json()["errorCode"]) == (404, "inexistent_resource_server")
    assert audience.json()["message"] == "No resource server found by specified identifier"
    assert bare.tenant.configuration.grants == {}


def test_a_grant_is_changed_only_with_a_scope_list(bare: SandboxServer, bootstrap_token: str) -> None:
    client_id = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json={"name": "s"}).json()["client_id"]
    body = {"client_id": client_id, "audience": bare.management_audience, "scope": ["read:users"]}
    grant = api(bare, "POST", "/api/v2/client-grants", token=bootstrap_token, json=body).json()
    path = f"/api/v2/client-grants/{grant['id']}"

    answers = [
        api(bare, "PATCH", path, token=bootstrap_token, json=change)
        for change in ({}, {"scope": "read:users update:users"}, {"scope": [1]}, {"audience": "https://x"})
    ]

    assert answers[0].json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Payload validation error: 'Missing required property: scope'.",
        "errorCode": "invalid_body",
    }
    assert [(answer.status_code, answer.json()["errorCode"]) for answer in answers] == [(400, "invalid_body")] * 4
    assert bare.tenant.configuration.grants[grant["id"]]["scope"] == ["read:users"]
