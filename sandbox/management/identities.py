"""``/api/v2/users/{id}/identities``: link, unlink."""

from __future__ import annotations

from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.payloads import parse_link
from sandbox.tenant.tenant import Tenant


class IdentitiesApi:
    """Server-side linking and unlinking (``update:users``)."""

    def __init__(self, *, tenant: Tenant) -> None:
        self._tenant = tenant

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/api/v2/users/{id}/identities", self.link, ("update:users",)),
            Route("DELETE", "/api/v2/users/{id}/identities/{provider}/{user_id}", self.unlink, ("update:users",)),
        ]

    def link(self, request: Request) -> Response:
        """201 with the primary's identities, its own first (``tests/fixtures/auth0/user_identities_linked.json``)."""
        provider, user_id = parse_link(request.json_object())
        identities = self._tenant.link_identity(request.params["id"], provider=provider, user_id=user_id)
        return json_response(201, identities)

    def unlink(self, request: Request) -> Response:
        params = request.params
        identities = self._tenant.unlink_identity(params["id"], provider=params["provider"], user_id=params["user_id"])
        return json_response(200, identities)
