"""``/oauth/token`` ``client_credentials``: a Management API token with the scopes the client grant allows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.errors import OAuthError
from sandbox.http.wire import Request, Response, json_response, text_parameter
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.clients import Client
from sandbox.tenant.site import Site
from sandbox.tenant.tokens import TokenIssuer


class ClientCredentialsGrant:
    """Only for ``{base}/api/v2/``; a scope outside the application's grant is 403 ``access_denied``."""

    def __init__(self, *, site: Site, issuer: TokenIssuer, grants: ClientGrants, lifetime: int) -> None:
        self._site = site
        self._issuer = issuer
        self._grants = grants
        self._lifetime = lifetime

    def __call__(self, client: Client, body: Mapping[str, Any], request: Request) -> Response:
        audience = text_parameter(body, "audience")
        if audience is None:
            raise OAuthError(
                403,
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured",
            )
        granted = self._grants.scopes_of(client.client_id, self._site.management_audience)
        if audience == self._site.api_audience or (audience == self._site.management_audience and granted is None):
            raise OAuthError(
                403,
                "access_denied",
                f'Client is not authorized to access "{audience}". '
                'You need to create a "client-grant" associated to this API.',
            )
        if audience != self._site.management_audience:
            raise OAuthError(403, "access_denied", f"Service not found: {audience}")
        requested = (text_parameter(body, "scope") or "").split()
        refused = [scope for scope in requested if scope not in (granted or ())]
        if refused:
            raise OAuthError(403, "access_denied", f"Client has not been granted scopes: {','.join(refused)}")
        scope = " ".join(scope for scope in granted or () if not requested or scope in requested)
        token = self._issuer.access_token(
            subject=f"{client.client_id}@clients",
            audience=audience,
            client_id=client.client_id,
            scope=scope,
            lifetime=self._lifetime,
            grant_type="client-credentials",
        )
        return json_response(
            200, {"access_token": token, "scope": scope, "expires_in": self._lifetime, "token_type": "Bearer"}
        )
