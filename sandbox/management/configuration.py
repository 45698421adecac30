"""The tenant's configuration as the Management API shows it: client grants, the API, roles' permissions.

``python -m ops check`` reads these to verify a deployment. The sandbox answers them from what it
really does (the scopes it puts in Management tokens, the lifetime of the user tokens it issues,
the permission each role adds), in the shapes of the recordings in ``tests/fixtures/auth0/``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.errors import ManagementError, invalid_query, role_not_found
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, boolean_parameter, integer_parameter
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.roles import Role
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

API_NAME = "Courses"
MANAGEMENT_API_NAME = "Auth0 Management API"


class ConfigurationApi:
    """``/api/v2``: client grants, resource servers (the API), roles and their permissions."""

    def __init__(
        self,
        *,
        tenant: Tenant,
        site: Site,
        grants: ClientGrants,
        token_lifetime: int,
        api_token_lifetime: int | None = None,
    ) -> None:
        self._tenant = tenant
        self._site = site
        self._grants = grants
        self._lifetime = token_lifetime
        # The course API's tokens are people's tokens (serve --access-token-lifetime); M2M keeps token_lifetime.
        self._api_lifetime = token_lifetime if api_token_lifetime is None else api_token_lifetime

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/client-grants", self.client_grants, ("read:client_grants",)),
            Route("GET", "/api/v2/resource-servers/{id}", self.resource_server, ("read:resource_servers",)),
            Route("GET", "/api/v2/roles/{id}", self.role, ("read:roles",)),
            Route("GET", "/api/v2/roles/{id}/permissions", self.role_permissions, ("read:roles",)),
        ]

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

    def resource_server(self, request: Request) -> Response:
        """The API by its id or identifier; the Management API itself is a system API."""
        key = request.params["id"]
        api = self._api()
        if key in (api["id"], api["identifier"]):
            return json_response(200, api)
        if key in (_server_id(self._site.management_audience), self._site.management_audience):
            return json_response(200, self._management_api())
        raise ManagementError(404, "The resource server does not exist", "inexistent_resource_server")

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
            "description": _describe(role),
            "resource_server_name": API_NAME,
            "resource_server_identifier": self._site.api_audience,
        }

    def _api(self) -> dict[str, Any]:
        """The API as the sandbox runs it: RBAC on, permissions in access tokens, its real token lifetime."""
        roles = sorted(self._tenant.roles.values(), key=lambda role: role.permission)
        scopes = {role.permission: _describe(role) for role in roles}
        return {
            "id": _server_id(self._site.api_audience),
            "name": API_NAME,
            "is_system": False,
            "identifier": self._site.api_audience,
            "scopes": [{"value": value, "description": description} for value, description in scopes.items()],
            "signing_alg": "RS256",
            "allow_offline_access": True,  # the SPA gets rotating refresh tokens for it
            "skip_consent_for_verifiable_first_party_clients": True,
            "token_lifetime": self._api_lifetime,
            "token_lifetime_for_web": self._api_lifetime,
            "enforce_policies": True,
            "token_dialect": "access_token_authz",
        }

    def _management_api(self) -> dict[str, Any]:
        return {
            "id": _server_id(self._site.management_audience),
            "name": MANAGEMENT_API_NAME,
            "is_system": True,
            "identifier": self._site.management_audience,
            "scopes": [{"value": scope, "description": scope} for scope in self._grants.all_scopes()],
            "signing_alg": "RS256",
            "allow_offline_access": False,
            "skip_consent_for_verifiable_first_party_clients": False,
            "token_lifetime": self._lifetime,
            "token_lifetime_for_web": self._lifetime,
        }


def _server_id(identifier: str) -> str:
    """A stable 24-hex id, like Auth0's resource server ids."""
    return hashlib.sha256(identifier.encode()).hexdigest()[:24]


def _describe(role: Role) -> str:
    return f"What the role {role.name} grants"


def _checkpoint(grants: list[dict[str, Any]], after: str | None) -> int:
    """Where the page that ``from=ID`` asks for starts; an unknown id is a 400 as at Auth0."""
    if not after:
        return 0
    for index, grant in enumerate(grants):
        if grant["id"] == after:
            return index
    raise invalid_query(f'Invalid value "{after}" for parameter from')
