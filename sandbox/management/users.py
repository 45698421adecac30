"""``/api/v2/users``: users by e-mail, create, get, patch, and their roles, with Auth0's statuses and shapes."""

from __future__ import annotations

from sandbox.errors import ManagementError, invalid_query
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, empty_response, json_response
from sandbox.management.payloads import parse_new_user, parse_role_ids, parse_user_update
from sandbox.management.query import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    boolean_parameter,
    integer_parameter,
    select_fields,
)
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


class UsersApi:
    """``/api/v2``: users-by-email, users create/get/patch and user roles."""

    def __init__(self, *, tenant: Tenant, site: Site) -> None:
        self._tenant = tenant
        self._site = site

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/users-by-email", self.users_by_email, ("read:users",)),
            Route("POST", "/api/v2/users", self.create_user, ("create:users",)),
            Route("GET", "/api/v2/users/{id}", self.get_user, ("read:users",)),
            Route("PATCH", "/api/v2/users/{id}", self.update_user, ("update:users", "update:users_app_metadata")),
            Route("GET", "/api/v2/users/{id}/roles", self.list_roles, ("read:users", "read:roles")),
            Route("POST", "/api/v2/users/{id}/roles", self.assign_roles, ("create:role_members",)),
            Route("DELETE", "/api/v2/users/{id}/roles", self.remove_roles, ("delete:role_members",)),
        ]

    def users_by_email(self, request: Request) -> Response:
        email = request.query_value("email")
        if not email:
            raise invalid_query("Missing required property: email")
        fields, include = _fields(request)
        users = self._tenant.users_by_email(email)
        return json_response(200, [select_fields(self._tenant.view(user), fields, include) for user in users])

    def create_user(self, request: Request) -> Response:
        new = parse_new_user(request.json_object())
        if new.connection not in self._tenant.connections:  # serve --bare: none until /api/v2/connections makes it
            raise ManagementError(400, "The connection does not exist.", "inexistent_connection")
        user = self._tenant.create_user(new, base_url=self._site.base_url)
        return json_response(201, self._tenant.view(user))

    def get_user(self, request: Request) -> Response:
        fields, include = _fields(request)
        user = self._tenant.user(request.params["id"])
        return json_response(200, select_fields(self._tenant.view(user), fields, include))

    def update_user(self, request: Request) -> Response:
        changes = parse_user_update(request.json_object())
        user = self._tenant.update_user(request.params["id"], changes)
        return json_response(200, self._tenant.view(user))

    def list_roles(self, request: Request) -> Response:
        per_page = integer_parameter(request, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        page = integer_parameter(request, "page", default=0, low=0, high=10**6)
        include_totals = boolean_parameter(request, "include_totals", default=False)
        roles = self._tenant.roles_of(self._tenant.user(request.params["id"]))
        start = page * per_page
        shown = [role.to_auth0() for role in roles[start : start + per_page]]
        if not include_totals:
            return json_response(200, shown)
        return json_response(200, {"roles": shown, "start": start, "limit": per_page, "total": len(roles)})

    def assign_roles(self, request: Request) -> Response:
        self._tenant.assign_roles(request.params["id"], parse_role_ids(request.json_object()))
        return empty_response(204)

    def remove_roles(self, request: Request) -> Response:
        self._tenant.remove_roles(request.params["id"], parse_role_ids(request.json_object()))
        return empty_response(204)


def _fields(request: Request) -> tuple[str | None, bool]:
    return request.query_value("fields"), boolean_parameter(request, "include_fields", default=True)
