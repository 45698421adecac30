"""``POST /oauth/token`` and ``/oauth/revoke``: authenticate the application, then hand over to its grant.

Each grant type is its own module (``client_credentials``, ``password_realm`` here; the browser's
``authorization_code`` and ``refresh_token`` in ``sandbox.oidc``); the server assembly names them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sandbox.errors import OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, text_parameter
from sandbox.tenant.clients import Client


class Grant(Protocol):
    """One grant type, for a client the token endpoint has already authenticated."""

    def __call__(self, client: Client, body: Mapping[str, Any], request: Request) -> Response: ...


Revoke = Callable[[Client, Mapping[str, Any]], Response]


class TokenEndpoint:
    """Refuses an unknown grant type, a client that fails to authenticate, or one not allowed the grant."""

    def __init__(self, *, clients: Mapping[str, Client], grants: Mapping[str, Grant], revoke: Revoke) -> None:
        self._clients = clients  # live: applications created through /api/v2/clients too
        self._grants = dict(grants)
        self._revoke = revoke

    @property
    def grant_types(self) -> tuple[str, ...]:
        return tuple(self._grants)

    def routes(self) -> list[Route]:
        return [Route("POST", "/oauth/token", self.token), Route("POST", "/oauth/revoke", self.revoke)]

    def token(self, request: Request) -> Response:
        body = request.form_or_json()
        grant_type = text_parameter(body, "grant_type")
        if grant_type is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
        grant = self._grants.get(grant_type)
        if grant is None:
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
        client = self._authenticated_client(body)
        if grant_type not in client.grant_types:
            raise OAuthError(403, "unauthorized_client", f"Grant type '{grant_type}' not allowed for the client.")
        return grant(client, body, request)

    def revoke(self, request: Request) -> Response:
        body = request.form_or_json()
        return self._revoke(self._authenticated_client(body), body)

    def _authenticated_client(self, body: Mapping[str, Any]) -> Client:
        """The client a token request is from; a public client (the SPA) has no secret to prove."""
        client = self._clients.get(text_parameter(body, "client_id") or "")
        if client is not None and client.client_secret is None:
            return client
        secret = text_parameter(body, "client_secret") or ""
        if client is None or not hmac.compare_digest(secret.encode(), (client.client_secret or "").encode()):
            raise OAuthError(401, "access_denied", "Unauthorized")
        return client
