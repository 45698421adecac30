"""``/api/v2/roles``: the courses' roles, each holding at most one permission on an API; list, create, update."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandbox.defaults import API_NAME
from sandbox.errors import ManagementError, payload_error, role_not_found
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, empty_response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, boolean_parameter, integer_parameter
from sandbox.tenant.configuration import random_id
from sandbox.tenant.roles import Role
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


class RolesApi:
    """In the shapes of ``role.json`` and ``role_permissions.json``; 404 ``inexistent_role`` otherwise.

    A sandbox role holds one permission (a course's): adding a second, different one is refused with a 400
    that says so, rather than silently kept or dropped.
    """

    def __init__(self, *, tenant: Tenant, site: Site, bare: bool = False) -> None:
        self._tenant = tenant
        self._site = site
        self._bare = bare

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/roles", self.list_roles, ("read:roles",)),
            Route("POST", "/api/v2/roles", self.create, ("create:roles",)),
            Route("GET", "/api/v2/roles/{id}", self.role, ("read:roles",)),
            Route("PATCH", "/api/v2/roles/{id}", self.update, ("update:roles",)),
            Route("GET", "/api/v2/roles/{id}/permissions", self.role_permissions, ("read:roles",)),
            Route("POST", "/api/v2/roles/{id}/permissions", self.add_permissions, ("update:roles",)),
            Route("DELETE", "/api/v2/roles/{id}/permissions", self.remove_permissions, ("update:roles",)),
        ]

    def list_roles(self, request: Request) -> Response:
        per_page = integer_parameter(request, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        page = integer_parameter(request, "page", default=0, low=0, high=10**6)
        name = request.query_value("name_filter")
        roles = sorted(self._tenant.roles.values(), key=lambda role: role.name)
        found = [role.to_auth0() for role in roles if not name or name.lower() in role.name.lower()]
        shown = found[page * per_page : (page + 1) * per_page]
        if not boolean_parameter(request, "include_totals", default=False):
            return json_response(200, shown)
        return json_response(200, {"start": page * per_page, "limit": per_page, "total": len(found), "roles": shown})

    def create(self, request: Request) -> Response:
        body = _role_body(request.json_object())
        if "name" not in body:
            raise payload_error("'Missing required property: name'.")
        with self._tenant.changing():
            if any(role.name == body["name"] for role in self._tenant.roles.values()):
                raise ManagementError(409, "Role name already exists", "conflict")
            role = Role(random_id("rol_", 16), body["name"], body.get("description", ""), "")
            self._tenant.roles[role.id] = role
        return json_response(200, role.to_auth0())

    def update(self, request: Request) -> Response:
        body = _role_body(request.json_object())
        with self._tenant.changing():
            role = replace(self._role(request.params["id"]), **body)
            self._tenant.roles[role.id] = role
        return json_response(200, role.to_auth0())

    def role(self, request: Request) -> Response:
        return json_response(200, self._role(request.params["id"]).to_auth0())

    def role_permissions(self, request: Request) -> Response:
        role = self._role(request.params["id"])
        per_page = integer_parameter(request, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        page = integer_parameter(request, "page", default=0, low=0, high=10**6)
        permissions = [self._permission(role)] if role.permission else []
        shown = permissions[page * per_page : (page + 1) * per_page]
        if not boolean_parameter(request, "include_totals", default=False):
            return json_response(200, shown)
        return json_response(
            200, {"start": page * per_page, "limit": per_page, "total": len(permissions), "permissions": shown}
        )

    def add_permissions(self, request: Request) -> Response:
        wanted = _permissions(request.json_object())
        with self._tenant.changing():
            role = self._role(request.params["id"])
            for api, name in wanted:
                self._require_scope(api, name)
                if role.permission and (role.permission, role.api or self._site.api_audience) != (name, api):
                    raise payload_error(f"the sandbox's role {role.name} holds one permission ({role.permission})")
                held_on = "" if api == self._site.api_audience and not self._bare else api
                role = replace(role, permission=name, api=held_on)
            self._tenant.roles[role.id] = role
        return empty_response(201)

    def remove_permissions(self, request: Request) -> Response:
        wanted = _permissions(request.json_object())
        with self._tenant.changing():
            role = self._role(request.params["id"])
            if (role.api or self._site.api_audience, role.permission) in wanted:
                self._tenant.roles[role.id] = replace(role, permission="", api="")
        return empty_response(204)

    def _require_scope(self, api: str, name: str) -> None:
        """As Auth0: the permission must be one of the API's scopes."""
        created = self._tenant.configuration.api_by_identifier(api)
        if created is not None:
            if name not in {scope.get("value") for scope in created.get("scopes", [])}:
                raise ManagementError(400, f"Permission {name} does not exist on {api}", "invalid_body")
            return
        if self._bare or api != self._site.api_audience:
            raise ManagementError(404, "Resource server not found", "inexistent_resource_server")

    def _role(self, role_id: str) -> Role:
        role = self._tenant.roles.get(role_id)
        if role is None:
            raise role_not_found()
        return role

    def _permission(self, role: Role) -> dict[str, str]:
        api = role.api or self._site.api_audience
        created = self._tenant.configuration.api_by_identifier(api)
        return {
            "permission_name": role.permission,
            "description": role.permission_description,
            "resource_server_name": created["name"] if created else API_NAME,
            "resource_server_identifier": api,
        }


def _role_body(body: dict[str, Any]) -> dict[str, str]:
    unknown = [name for name in body if name not in ("name", "description")]
    if unknown:
        raise payload_error(f"'Additional properties not allowed: {','.join(unknown)}'.")
    for name, value in body.items():
        if not isinstance(value, str):
            raise payload_error(f"'Expected type string' on property {name}.")
    if body.get("name") == "":
        raise payload_error("'String is too short (0 chars), minimum 1' on property name.")
    return dict(body)


def _permissions(body: dict[str, Any]) -> list[tuple[str, str]]:
    items = body.get("permissions")
    if not isinstance(items, list) or not items:
        raise payload_error("'Missing required property: permissions'.")
    found = []
    for item in items:
        api, name = (
            item.get(key) if isinstance(item, dict) else None
            for key in ("resource_server_identifier", "permission_name")
        )
        if not isinstance(api, str) or not isinstance(name, str):
            raise payload_error("'Missing required property: resource_server_identifier, permission_name'.")
        found.append((api, name))
    return found
