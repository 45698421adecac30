"""``GET /api/v2/client-grants``: which applications may call the Management API, with which scopes."""

from __future__ import annotations

from typing import Any

from sandbox.errors import invalid_query
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, boolean_parameter, integer_parameter
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.site import Site


class ClientGrantsApi:
    """The grants the tenant really applies to ``client_credentials``, in the recorded shape."""

    def __init__(self, *, site: Site, grants: ClientGrants) -> None:
        self._site = site
        self._grants = grants

    def routes(self) -> list[Route]:
        return [Route("GET", "/api/v2/client-grants", self.client_grants, ("read:client_grants",))]

    def client_grants(self, request: Request) -> Response:
        """Filtered by ``client_id`` and ``audience``; ``from``/``take`` pages (checkpoint pagination)."""
        client_id, audience = request.query_value("client_id"), request.query_value("audience")
        grants = [
            grant.to_auth0(self._site.management_audience)
            for grant in self._grants.all()
            if client_id in (None, grant.client_id) and audience in (None, self._site.management_audience)
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
