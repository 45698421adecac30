"""``/api/v2/connections``: the database connection people sign in with; by name, create, update, its clients.

The sandbox signs people in with one database connection (``serve --connection``). Started normally, the
tenant holds it from the start; started ``--bare``, it exists once created here, and users can be
created in it only then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sandbox.errors import ManagementError, invalid_query, payload_error
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, empty_response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, integer_parameter
from sandbox.tenant.clients import Client
from sandbox.tenant.configuration import random_id
from sandbox.tenant.tenant import Tenant


class ConnectionsApi:
    """In Auth0's shapes; checkpoint pages (``take``/``from``) as the SDK asks for them."""

    def __init__(self, *, tenant: Tenant, clients: Mapping[str, Client], bare: bool = False) -> None:
        self._tenant = tenant
        self._clients = clients
        self._bare = bare

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/connections", self.list_connections, ("read:connections",)),
            Route("POST", "/api/v2/connections", self.create, ("create:connections",)),
            Route("GET", "/api/v2/connections/{id}", self.get_connection, ("read:connections",)),
            Route("PATCH", "/api/v2/connections/{id}", self.update, ("update:connections",)),
            Route("GET", "/api/v2/connections/{id}/clients", self.enabled_clients, ("read:connections",)),
            Route("PATCH", "/api/v2/connections/{id}/clients", self.enable_clients, ("update:connections",)),
        ]

    def list_connections(self, request: Request) -> Response:
        name = request.query_value("name")
        found = [_public(item) for item in self._connections() if name in (None, item["name"])]
        if request.query_value("take") is None and request.query_value("from") is None:
            return json_response(200, found)
        take = integer_parameter(request, "take", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        start = _checkpoint([item["id"] for item in found], request.query_value("from"))
        answer: dict[str, Any] = {"connections": found[start : start + take]}
        if start + take < len(found):
            answer["next"] = found[start + take]["id"]
        return json_response(200, answer)

    def get_connection(self, request: Request) -> Response:
        return json_response(200, _public(self._connection(request.params["id"])))

    def create(self, request: Request) -> Response:
        body = _connection_body(request.json_object(), creating=True)
        if body.get("strategy") != "auth0":
            raise payload_error("the sandbox's connections are database connections (strategy auth0)")
        with self._tenant.changing():
            if any(item["name"] == body["name"] for item in self._connections()):
                raise ManagementError(409, "A connection with the same name already exists", "connection_exists")
            connection = {
                "id": random_id("con_", 16),
                "options": {},
                "metadata": {},
                "is_domain_connection": False,
                "realms": [body["name"]],
                **{key: value for key, value in body.items() if key != "enabled_clients"},
                "enabled_clients": list(body.get("enabled_clients", [])),
            }
            self._tenant.configuration.connections[connection["id"]] = connection
        return json_response(201, _public(connection))

    def update(self, request: Request) -> Response:
        body = _connection_body(request.json_object(), creating=False)
        with self._tenant.changing():
            connection = self._created(request.params["id"])
            connection.update(body)  # Auth0 replaces options and metadata whole
        return json_response(200, _public(connection))

    def enabled_clients(self, request: Request) -> Response:
        connection = self._connection(request.params["id"])
        take = integer_parameter(request, "take", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        ids = list(connection["enabled_clients"])
        start = _checkpoint(ids, request.query_value("from"))
        answer: dict[str, Any] = {"clients": [{"client_id": client_id} for client_id in ids[start : start + take]]}
        if start + take < len(ids):
            answer["next"] = ids[start + take]
        return json_response(200, answer)

    def enable_clients(self, request: Request) -> Response:
        changes = _client_changes(request)
        with self._tenant.changing():
            connection = self._created(request.params["id"])
            enabled = list(connection["enabled_clients"])
            for client_id, status in changes:
                if client_id not in self._clients:
                    raise ManagementError(404, "The client does not exist", "inexistent_client")
                if status and client_id not in enabled:
                    enabled.append(client_id)
                if not status and client_id in enabled:
                    enabled.remove(client_id)
            connection["enabled_clients"] = enabled
        return empty_response(204)

    def _connections(self) -> list[dict[str, Any]]:
        created = list(self._tenant.configuration.connections.values())
        if self._bare or any(item["name"] == self._tenant.connection for item in created):
            return created
        own = {
            "id": "con_" + hashlib.sha256(self._tenant.connection.encode()).hexdigest()[:16],
            "name": self._tenant.connection,
            "strategy": "auth0",
            "options": {},
            "metadata": {},
            "is_domain_connection": False,
            "realms": [self._tenant.connection],
            "enabled_clients": list(self._clients),
        }
        return [own, *created]

    def _connection(self, connection_id: str) -> dict[str, Any]:
        found = next((item for item in self._connections() if item["id"] == connection_id), None)
        if found is None:
            raise ManagementError(404, "The connection does not exist", "inexistent_connection")
        return found

    def _created(self, connection_id: str) -> dict[str, Any]:
        found = self._tenant.configuration.connections.get(connection_id)
        if found is None:
            self._connection(connection_id)
            raise payload_error("the sandbox's own connection is changed by its settings, not here")
        return found


def _public(connection: dict[str, Any]) -> dict[str, Any]:
    """Auth0 lists enabled clients through ``/connections/{id}/clients`` only."""
    return {key: value for key, value in connection.items() if key != "enabled_clients"}


def _connection_body(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    allowed = {"options": dict, "metadata": dict, "display_name": str}
    if creating:
        allowed |= {"name": str, "strategy": str, "enabled_clients": list}
    for name, value in body.items():
        if name not in allowed:
            raise payload_error(f"'Additional properties not allowed: {name}'.")
        if not isinstance(value, allowed[name]):
            raise payload_error(f"'Expected type {allowed[name].__name__}' on property {name}.")
    if creating and not body.get("name"):
        raise payload_error("'Missing required property: name'.")
    return dict(body)


def _client_changes(request: Request) -> list[tuple[str, bool]]:
    items = request.json_value()
    if not isinstance(items, list) or not items:
        raise payload_error("'Expected type array' on the body.")
    changes = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("client_id"), str):
            raise payload_error("'Missing required property: client_id'.")
        if not isinstance(item.get("status"), bool):
            raise payload_error("'Missing required property: status'.")
        changes.append((item["client_id"], item["status"]))
    return changes


def _checkpoint(ids: list[str], after: str | None) -> int:
    if not after:
        return 0
    if after not in ids:
        raise invalid_query(f'Invalid value "{after}" for parameter from')
    return ids.index(after)
