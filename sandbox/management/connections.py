"""``/api/v2/connections``: the tenant's connections by ``name`` and ``strategy``; created, changed, their clients.

Started normally, the sandbox holds its database connection (``serve --connection``), Google and passwordless
e-mail, which are its settings and are not changed here. Started ``--bare`` it holds none: a database connection
made here (``ops tenant apply``) is the one people sign in and sign up with, and users can be created in it.

As Auth0 (its "connection options scopes" migration): a connection's ``options`` are shown only to a token with
``read:connections_options`` (hidden, not refused, otherwise), and a change that sends ``options`` needs
``update:connections_options`` (403 ``insufficient_scope`` otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sandbox.errors import ManagementError, insufficient_scope, invalid_query, payload_error
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, empty_response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, boolean_parameter, integer_parameter, select_fields
from sandbox.tenant.clients import Client
from sandbox.tenant.connections import Connection
from sandbox.tenant.tenant import Tenant

OPTIONS_READ = "read:connections_options"
OPTIONS_UPDATE = "update:connections_options"


class ConnectionsApi:
    """In Auth0's shapes; ``ops check`` reads the database connection's ``disable_signup`` here. A list is an
    array, or with ``take``/``from`` a checkpoint page (``{"connections", "next"}``) as auth0-python asks."""

    def __init__(self, *, tenant: Tenant, clients: Mapping[str, Client] | None = None) -> None:
        self._tenant = tenant
        self._clients = clients if clients is not None else {}

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
        names = request.query.get("name", [])
        strategies = request.query.get("strategy", [])
        fields = request.query_value("fields")
        include = boolean_parameter(request, "include_fields", default=True)
        found = [
            _shown(connection, request)
            for connection in self._tenant.connections.values()
            if (not names or connection.name in names) and (not strategies or connection.strategy in strategies)
        ]
        shown = [select_fields(item, fields, include) for item in found]
        if request.query_value("take") is None and request.query_value("from") is None:
            return json_response(200, shown)
        take = integer_parameter(request, "take", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        start = _checkpoint([item["id"] for item in found], request.query_value("from"))
        answer: dict[str, Any] = {"connections": shown[start : start + take]}
        if start + take < len(found):
            answer["next"] = found[start + take]["id"]
        return json_response(200, answer)

    def get_connection(self, request: Request) -> Response:
        return json_response(200, _shown(self._connection(request.params["id"]), request))

    def create(self, request: Request) -> Response:
        body = _connection_body(request.json_object(), creating=True)
        if body.get("strategy") != "auth0":
            raise payload_error("the sandbox makes database connections only (strategy auth0)")
        options = dict(body.get("options", {}))
        connection = Connection(
            name=body["name"],
            strategy="auth0",
            enabled_clients=tuple(body.get("enabled_clients", [])),
            disable_signup=bool(options.get("disable_signup", False)),
            created=True,
            options=options,
            metadata=dict(body.get("metadata", {})),
        )
        with self._tenant.changing():
            if connection.name in self._tenant.connections:
                raise ManagementError(409, "A connection with the same name already exists", "connection_exists")
            self._keep(connection)
        return json_response(201, connection.to_auth0())

    def update(self, request: Request) -> Response:
        body = _connection_body(request.json_object(), creating=False)
        if "options" in body and OPTIONS_UPDATE not in request.scopes:
            raise insufficient_scope((OPTIONS_UPDATE,))
        with self._tenant.changing():
            connection = self._created(request.params["id"])
            options = body.get("options", connection.options)  # Auth0 replaces options and metadata whole
            changed = replace(
                connection,
                options=dict(options),
                disable_signup=bool(options.get("disable_signup", False)),
                metadata=dict(body.get("metadata", connection.metadata)),
            )
            self._keep(changed)
        return json_response(200, _shown(changed, request))

    def enabled_clients(self, request: Request) -> Response:
        connection = self._connection(request.params["id"])
        take = integer_parameter(request, "take", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        ids = list(connection.enabled_clients)
        start = _checkpoint(ids, request.query_value("from"))
        answer: dict[str, Any] = {"clients": [{"client_id": client_id} for client_id in ids[start : start + take]]}
        if start + take < len(ids):
            answer["next"] = ids[start + take]
        return json_response(200, answer)

    def enable_clients(self, request: Request) -> Response:
        changes = _client_changes(request)
        with self._tenant.changing():
            connection = self._created(request.params["id"])
            enabled = list(connection.enabled_clients)
            for client_id, status in changes:
                if client_id not in self._clients:
                    raise ManagementError(404, "The client does not exist", "inexistent_client")
                if status and client_id not in enabled:
                    enabled.append(client_id)
                if not status and client_id in enabled:
                    enabled.remove(client_id)
            self._keep(replace(connection, enabled_clients=tuple(enabled)))
        return empty_response(204)

    def _keep(self, connection: Connection) -> None:
        self._tenant.connections[connection.name] = connection
        self._tenant.configuration.connections[connection.name] = connection.to_state()

    def _connection(self, connection_id: str) -> Connection:
        found = next((item for item in self._tenant.connections.values() if item.id == connection_id), None)
        if found is None:
            raise ManagementError(404, "The connection does not exist", "inexistent_connection")
        return found

    def _created(self, connection_id: str) -> Connection:
        found = self._connection(connection_id)
        if not found.created:
            raise payload_error("the sandbox's own connections are changed by its settings, not here")
        return found


def _shown(connection: Connection, request: Request) -> dict[str, Any]:
    """The connection as Auth0 shows it to this request's token: ``options`` only with ``read:connections_options``."""
    shown = connection.to_auth0()
    if OPTIONS_READ not in request.scopes:
        del shown["options"]
    return shown


def _connection_body(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    allowed: dict[str, type] = {"options": dict, "metadata": dict, "display_name": str}
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
