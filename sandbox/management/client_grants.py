"""``/api/v2/client-grants``: which applications may call an API, with which scopes; list, create, update."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from sandbox.errors import ManagementError, invalid_query, payload_error
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, boolean_parameter, integer_parameter
from sandbox.tenant.client_grants import ClientGrant, ClientGrants
from sandbox.tenant.clients import Client
from sandbox.tenant.configuration import random_id
from sandbox.tenant.site import Site


class ClientGrantsApi:
    """The grants the tenant really applies to ``client_credentials``, in the recorded shape."""

    def __init__(
        self,
        *,
        site: Site,
        grants: ClientGrants,
        changing: Callable[[], AbstractContextManager[None]],
        clients: Mapping[str, Client],
        api_exists: Callable[[str], bool],
    ) -> None:
        self._site = site
        self._grants = grants
        self._changing = changing  # the tenant's lock, saving the state afterwards
        self._clients = clients  # every application, the sandbox's own and those created
        self._api_exists = api_exists  # an API (resource server) of this identifier, the Management API too

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/client-grants", self.client_grants, ("read:client_grants",)),
            Route("POST", "/api/v2/client-grants", self.create, ("create:client_grants",)),
            Route("PATCH", "/api/v2/client-grants/{id}", self.update, ("update:client_grants",)),
        ]

    def create(self, request: Request) -> Response:
        body = request.json_object()
        client_id, audience, scope = body.get("client_id"), body.get("audience"), _scope(body)
        if not isinstance(client_id, str) or not isinstance(audience, str) or scope is None:
            raise payload_error("'Missing required property: client_id, audience, scope'.")
        with self._changing():
            if client_id not in self._clients:
                raise ManagementError(404, "The client does not exist", "inexistent_client")
            if not self._api_exists(audience):
                raise ManagementError(
                    404, "No resource server found by specified identifier", "inexistent_resource_server"
                )
            documents = self._grants.documents(self._site.management_audience)
            if any(grant["client_id"] == client_id and grant["audience"] == audience for grant in documents):
                raise ManagementError(409, "A client grant for this client and audience already exists", "conflict")
            grant = {**ClientGrant(client_id, tuple(scope)).to_auth0(audience), "id": "cgr_" + random_id("", 16)}
            self._grants.created[grant["id"]] = grant
        return json_response(201, grant)

    def update(self, request: Request) -> Response:
        scope = _scope(request.json_object())
        if scope is None:
            raise payload_error("'Missing required property: scope'.")
        with self._changing():
            grant = self._grants.created.get(request.params["id"])
            if grant is None:
                raise ManagementError(404, "The client grant does not exist", "inexistent_client_grant")
            grant["scope"] = scope
        return json_response(200, grant)

    def client_grants(self, request: Request) -> Response:
        """Filtered by ``client_id`` and ``audience``; ``from``/``take`` pages (checkpoint pagination)."""
        client_id, audience = request.query_value("client_id"), request.query_value("audience")
        grants = [
            grant
            for grant in self._grants.documents(self._site.management_audience)
            if client_id in (None, grant["client_id"]) and audience in (None, grant["audience"])
        ]
        if not boolean_parameter(request, "include_totals", default=True):
            return json_response(200, grants)
        take = integer_parameter(request, "take", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        start = _checkpoint(grants, request.query_value("from"))
        answer: dict[str, Any] = {"client_grants": grants[start : start + take]}
        if start + take < len(grants):
            answer["next"] = grants[start + take]["id"]
        return json_response(200, answer)


def _checkpoint(grants: list[dict[str, Any]], after: str | None) -> int:
    """Where the page that ``from=ID`` asks for starts; an unknown id is a 400 as at Auth0."""
    if not after:
        return 0
    for index, grant in enumerate(grants):
        if grant["id"] == after:
            return index
    raise invalid_query(f'Invalid value "{after}" for parameter from')


def _scope(body: dict[str, Any]) -> list[str] | None:
    scope = body.get("scope")
    if not isinstance(scope, list) or not all(isinstance(item, str) for item in scope):
        return None
    return list(dict.fromkeys(scope))
