"""``GET /api/v2/roles/{id}`` and ``/permissions``: a course's role and its one permission on the API."""

from __future__ import annotations

from sandbox.defaults import API_NAME
from sandbox.errors import role_not_found
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, boolean_parameter, integer_parameter
from sandbox.tenant.roles import Role
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


class RolesApi:
    """In the shapes of ``role.json`` and ``role_permissions.json``; 404 ``inexistent_role`` otherwise."""

    def __init__(self, *, tenant: Tenant, site: Site) -> None:
        self._tenant = tenant
        self._site = site

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/roles/{id}", self.role, ("read:roles",)),
            Route("GET", "/api/v2/roles/{id}/permissions", self.role_permissions, ("read:roles",)),
        ]

    def role(self, request: Request) -> Response:
        return json_response(200, self._role(request.params["id"]).to_auth0())

    def role_permissions(self, request: Request) -> Response:
        role = self._role(request.params["id"])
        per_page = integer_parameter(request, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        page = integer_parameter(request, "page", default=0, low=0, high=10**6)
        permissions = [self._permission(role)]
        shown = permissions[page * per_page : (page + 1) * per_page]
        if not boolean_parameter(request, "include_totals", default=False):
            return json_response(200, shown)
        return json_response(
            200, {"start": page * per_page, "limit": per_page, "total": len(permissions), "permissions": shown}
        )

    def _role(self, role_id: str) -> Role:
        role = self._tenant.roles.get(role_id)
        if role is None:
            raise role_not_found()
        return role

    def _permission(self, role: Role) -> dict[str, str]:
        return {
            "permission_name": role.permission,
            "description": role.permission_description,
            "resource_server_name": API_NAME,
            "resource_server_identifier": self._site.api_audience,
        }
