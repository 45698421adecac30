"""`ops tenant` reading the tenant through auth0-python, over an httpx transport that answers as the Management
API does (no network): which applications are its own, and a malformed answer said in one line, without its body."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from ops.errors import Auth0Refused
from ops.tenant.auth0 import Calls
from ops.tenant.model import SERVICE, SPA, client_metadata, desired_state
from ops.tenant.read import read_tenant
from tests.auth0_replay import fixture
from tests.unit.ops.tenant.conftest import Answer
from tests.unit.ops.tenant.test_plan import IDS, MANAGEMENT, needs

OURS = IDS[SERVICE]
FOREIGN = "foreignClient01"
OUR_SECRET = "our-service-secret-0001"
FOREIGN_SECRET = "foreign-secret-0001"


def client(client_id: str, name: str, metadata: dict[str, str]) -> dict[str, Any]:
    return {"client_id": client_id, "name": name, "client_metadata": metadata, "app_type": "non_interactive"}


def listed(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"start": 0, "limit": 100, "total": len(items), key: items}


def management_api(clients: list[dict[str, Any]], secrets: dict[str, str]) -> Answer:
    """The Management API of a tenant holding ``clients``; only ``OURS`` holds a grant; no API, role or connection."""
    grants = fixture("client_grants_management_api.json")["client_grants"]
    for grant in grants:
        grant["client_id"] = OURS

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v2")
        query = parse_qs(request.url.query.decode())
        if path.startswith("/resource-servers/"):
            return httpx.Response(404, json=fixture("error_404_resource_server.json"))
        if path == "/roles":
            return httpx.Response(200, json=listed("roles", []))
        if path == "/clients":
            return httpx.Response(200, json=listed("clients", clients))
        if path.startswith("/clients/"):
            client_id = path.rsplit("/", 1)[1]
            return httpx.Response(200, json={"client_id": client_id, "client_secret": secrets[client_id]})
        if path == "/client-grants":
            held = [grant for grant in grants if grant["client_id"] == query["client_id"][0]]
            return httpx.Response(200, json={"client_grants": held})
        if path == "/connections":
            return httpx.Response(200, json={"connections": []})
        return httpx.Response(404, json={"statusCode": 404, "error": "Not Found", "message": path})

    return answer


def test_an_application_of_another_tool_with_the_stages_mark_otherwise_is_not_taken_for_the_services(
    calls_for: Callable[[Answer], Calls],
) -> None:
    desired = desired_state(needs())
    foreign = {"managed_by": "another-tool", "stage": "prod", "purpose": SERVICE}
    clients = [
        client(OURS, "gumroad-auth0-gate prod service", client_metadata("prod", SERVICE)),
        client(IDS[SPA], "gumroad-auth0-gate prod SPA", client_metadata("prod", SPA)),
        client(FOREIGN, "their service", foreign),
    ]
    calls = calls_for(management_api(clients, {OURS: OUR_SECRET, FOREIGN: FOREIGN_SECRET}))

    found = read_tenant(calls, desired, secrets_of=(SERVICE,))

    assert [(grant.client_id, grant.audience) for grant in found.grants] == [(OURS, MANAGEMENT)]
    assert found.client_secrets == {OURS: OUR_SECRET}


def test_a_2xx_body_the_sdk_cannot_read_is_one_line_naming_the_call_and_never_showing_the_body(
    calls_for: Callable[[Answer], Calls],
) -> None:
    desired = desired_state(needs())
    secret = "sEcReT-value-that-must-not-show-0123456789"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/clients":
            # A client list whose items are not objects: auth0-python's models reject it (ParsingError).
            body = {"start": 0, "limit": 100, "total": 1, "clients": [f"client_secret={secret}"]}
            return httpx.Response(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
        return management_api([], {})(request)

    with pytest.raises(Auth0Refused) as refused:
        read_tenant(calls_for(answer), desired)

    said = str(refused.value)
    assert said == "Auth0's answer to read:clients is not what auth0-python reads (its body is not shown)"
    assert secret not in said
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__
