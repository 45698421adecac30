"""``GET /api/v2/connections``: the tenant's connections, filtered by ``name`` and ``strategy`` as Auth0 does."""

from __future__ import annotations

from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.query import boolean_parameter, select_fields
from sandbox.tenant.tenant import Tenant


class ConnectionsApi:
    """``read:connections``; ``ops check`` reads the database connection's ``disable_signup`` here."""

    def __init__(self, *, tenant: Tenant) -> None:
        self._tenant = tenant

    def routes(self) -> list[Route]:
        return [Route("GET", "/api/v2/connections", self.list_connections, ("read:connections",))]

    def list_connections(self, request: Request) -> Response:
        names = request.query.get("name", [])
        strategies = request.query.get("strategy", [])
        fields = request.query_value("fields")
        include = boolean_parameter(request, "include_fields", default=True)
        shown = [
            select_fields(connection.to_auth0(), fields, include)
            for connection in self._tenant.connections.values()
            if (not names or connection.name in names) and (not strategies or connection.strategy in strategies)
        ]
        return json_response(200, shown)
