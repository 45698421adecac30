"""``/api/v2/resource-servers``: the course API as the sandbox runs it, the Management API, and created APIs.

``python -m ops check`` reads it to verify a deployment: RBAC on, permissions in access tokens, the
lifetime user tokens are really issued with, a scope per role's permission. ``ops tenant`` creates and
updates an API (a bare sandbox serves none until then).
"""

from __future__ import annotations

from typing import Any

from sandbox.defaults import API_NAME
from sandbox.errors import ManagementError, payload_error
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, boolean_parameter, integer_parameter
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.configuration import server_id
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

MANAGEMENT_API_NAME = "Auth0 Management API"
MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME = 1, 2_592_000  # Auth0's bounds of an API's token_lifetime (30 days)
# What POST and PATCH accept (Auth0 accepts more; these are the settings the service's API uses).
_SETTINGS = {
    "name": str,
    "scopes": list,
    "signing_alg": str,
    "allow_offline_access": bool,
    "skip_consent_for_verifiable_first_party_clients": bool,
    "token_lifetime": int,
    "token_lifetime_for_web": int,
    "enforce_policies": bool,
    "token_dialect": str,
}


class ResourceServersApi:
    """By id or (URL-encoded) identifier; 404 ``inexistent_resource_server`` for any other."""

    def __init__(
        self,
        *,
        tenant: Tenant,
        site: Site,
        grants: ClientGrants,
        token_lifetime: int,
        api_token_lifetime: int,
        bare: bool = False,
    ) -> None:
        self._tenant = tenant
        self._site = site
        self._grants = grants
        self._lifetime = token_lifetime
        # The course API's tokens are people's tokens (serve --access-token-lifetime); M2M keeps token_lifetime.
        self._api_lifetime = api_token_lifetime
        self._bare = bare  # serve --bare: no API but the ones created here

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/resource-servers", self.list_resource_servers, ("read:resource_servers",)),
            Route("GET", "/api/v2/resource-servers/{id}", self.resource_server, ("read:resource_servers",)),
            Route("POST", "/api/v2/resource-servers", self.create, ("create:resource_servers",)),
            Route("PATCH", "/api/v2/resource-servers/{id}", self.update, ("update:resource_servers",)),
        ]

    def list_resource_servers(self, request: Request) -> Response:
        per_page = integer_parameter(request, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        page = integer_parameter(request, "page", default=0, low=0, high=10**6)
        servers = [self._management_api(), *self._apis()]
        shown = servers[page * per_page : (page + 1) * per_page]
        if not boolean_parameter(request, "include_totals", default=False):
            return json_response(200, shown)
        answer = {"start": page * per_page, "limit": per_page, "total": len(servers), "resource_servers": shown}
        return json_response(200, answer)

    def resource_server(self, request: Request) -> Response:
        """The API by its id or identifier; the Management API itself is a system API."""
        key = request.params["id"]
        if key in (server_id(self._site.management_audience), self._site.management_audience):
            return json_response(200, self._management_api())
        return json_response(200, self._find(key))

    def create(self, request: Request) -> Response:
        body = request.json_object()
        identifier = body.get("identifier")
        if not isinstance(identifier, str) or not identifier:
            raise payload_error("'Missing required property: identifier'.")
        settings = _settings(body, allowed={"identifier"})
        with self._tenant.changing():
            if (
                any(api["identifier"] == identifier for api in self._apis())
                or identifier == self._site.management_audience
            ):
                raise ManagementError(409, "A resource server with the same identifier already exists", "conflict")
            api = {
                "id": server_id(identifier),
                "name": identifier,
                "is_system": False,
                "identifier": identifier,
                "scopes": [],
                "signing_alg": "RS256",
                "allow_offline_access": False,
                "skip_consent_for_verifiable_first_party_clients": False,
                "token_lifetime": 86_400,
                "token_lifetime_for_web": 7_200,
                "enforce_policies": False,
                "token_dialect": "access_token",
                **settings,
            }
            self._tenant.configuration.apis[api["id"]] = api
        return json_response(201, api)

    def update(self, request: Request) -> Response:
        settings = _settings(request.json_object(), allowed=set())
        with self._tenant.changing():
            api = self._find(request.params["id"])
            if api["id"] not in self._tenant.configuration.apis:
                raise ManagementError(400, "The sandbox's own API is changed by its settings, not here", "invalid_body")
            api.update(settings)
        return json_response(200, api)

    def exists(self, identifier: str) -> bool:
        """An API of this identifier: the Management API, or one the tenant serves."""
        return identifier == self._site.management_audience or any(
            api["identifier"] == identifier for api in self._apis()
        )

    def _find(self, key: str) -> dict[str, Any]:
        for api in self._apis():
            if key in (api["id"], api["identifier"]):
                return api
        raise ManagementError(404, "The resource server does not exist", "inexistent_resource_server")

    def _apis(self) -> list[dict[str, Any]]:
        created = list(self._tenant.configuration.apis.values())
        if self._bare or any(api["identifier"] == self._site.api_audience for api in created):
            return created
        return [self._api(), *created]

    def _api(self) -> dict[str, Any]:
        """The API as the sandbox runs it: RBAC on, permissions in access tokens, its real token lifetime."""
        roles = sorted(self._tenant.roles.values(), key=lambda role: role.permission)
        scopes = {role.permission: role.permission_description for role in roles}
        return {
            "id": server_id(self._site.api_audience),
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
            "id": server_id(self._site.management_audience),
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


def _settings(body: dict[str, Any], *, allowed: set[str]) -> dict[str, Any]:
    """The body's settings, type-checked as Auth0 does (``invalid_body`` naming the property)."""
    unknown = [name for name in body if name not in _SETTINGS and name not in allowed]
    if unknown:
        raise payload_error(f"'Additional properties not allowed: {','.join(unknown)}'.")
    for name, kind in _SETTINGS.items():
        if name in body and (not isinstance(body[name], kind) or (kind is int and isinstance(body[name], bool))):
            raise payload_error(f"'Expected type {kind.__name__} but found another type' on property {name}.")
    lifetime = body.get("token_lifetime")
    if isinstance(lifetime, int) and not MIN_TOKEN_LIFETIME <= lifetime <= MAX_TOKEN_LIFETIME:
        bound = "less than minimum" if lifetime < MIN_TOKEN_LIFETIME else "greater than maximum"
        limit = MIN_TOKEN_LIFETIME if lifetime < MIN_TOKEN_LIFETIME else MAX_TOKEN_LIFETIME
        raise payload_error(f"'Value {lifetime} is {bound} {limit}' on property token_lifetime.")
    for scope in body.get("scopes", []):
        if not isinstance(scope, dict) or not isinstance(scope.get("value"), str):
            raise payload_error("'Expected type object with a string value' on property scopes.")
    return {name: body[name] for name in _SETTINGS if name in body}
