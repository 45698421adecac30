"""``GET /api/v2/resource-servers/{id}``: the course API as the sandbox really runs it, and the Management API.

``python -m ops check`` reads it to verify a deployment: RBAC on, permissions in access tokens, the
lifetime user tokens are really issued with, a scope per role's permission.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.defaults import API_NAME
from sandbox.errors import ManagementError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

MANAGEMENT_API_NAME = "Auth0 Management API"


class ResourceServersApi:
    """By id or (URL-encoded) identifier; 404 ``inexistent_resource_server`` for any other."""

    def __init__(
        self, *, tenant: Tenant, site: Site, grants: ClientGrants, token_lifetime: int, api_token_lifetime: int
    ) -> None:
        self._tenant = tenant
        self._site = site
        self._grants = grants
        self._lifetime = token_lifetime
        # The course API's tokens are people's tokens (serve --access-token-lifetime); M2M keeps token_lifetime.
        self._api_lifetime = api_token_lifetime

    def routes(self) -> list[Route]:
        return [Route("GET", "/api/v2/resource-servers/{id}", self.resource_server, ("read:resource_servers",))]

    def resource_server(self, request: Request) -> Response:
        """The API by its id or identifier; the Management API itself is a system API."""
        key = request.params["id"]
        api = self._api()
        if key in (api["id"], api["identifier"]):
            return json_response(200, api)
        if key in (_server_id(self._site.management_audience), self._site.management_audience):
            return json_response(200, self._management_api())
        raise ManagementError(404, "The resource server does not exist", "inexistent_resource_server")

    def _api(self) -> dict[str, Any]:
        """The API as the sandbox runs it: RBAC on, permissions in access tokens, its real token lifetime."""
        roles = sorted(self._tenant.roles.values(), key=lambda role: role.permission)
        scopes = {role.permission: role.permission_description for role in roles}
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
