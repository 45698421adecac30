"""The Authentication API: ``/oauth/token`` (four grants), ``/oauth/revoke``, change-password e-mails, discovery."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from sandbox.defaults import (
    AUTHORIZATION_CODE_GRANT,
    CLIENT_CREDENTIALS_GRANT,
    ID_TOKEN_LIFETIME_SECONDS,
    PASSWORD_GRANT,
    REFRESH_TOKEN_GRANT,
)
from sandbox.errors import OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response, text_response
from sandbox.oidc.code_flow import CodeFlow
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.clients import Client
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import TokenIssuer, user_access_token

GRANT_TYPES = (AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT, CLIENT_CREDENTIALS_GRANT, PASSWORD_GRANT)
CHANGE_PASSWORD_ANSWER = "We've just sent you an email to reset your password."  # noqa: S105 - Auth0's text


class AuthenticationApi:
    def __init__(
        self,
        *,
        tenant: Tenant,
        site: Site,
        issuer: TokenIssuer,
        clients: Mapping[str, Client],
        token_lifetime: int,
        user_token_lifetime: int | None = None,
        grants: ClientGrants,
    ) -> None:
        self._grants = grants
        self._tenant = tenant
        self._site = site
        self._issuer = issuer
        self._clients = dict(clients)
        self._lifetime = token_lifetime
        # Tokens for people (password-realm, code, refresh) may be shorter-lived than M2M tokens.
        self._user_lifetime = token_lifetime if user_token_lifetime is None else user_token_lifetime
        self._code_flow = CodeFlow(tenant=tenant, site=site, issuer=issuer, access_token_lifetime=self._user_lifetime)

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/oauth/token", self.token),
            Route("POST", "/oauth/revoke", self.revoke),
            Route("POST", "/dbconnections/change_password", self.change_password),
            Route("GET", "/.well-known/jwks.json", self.jwks),
            Route("GET", "/.well-known/openid-configuration", self.openid_configuration),
        ]

    def token(self, request: Request) -> Response:
        body = request.form_or_json()
        grant_type = _text(body, "grant_type")
        if grant_type is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type not in GRANT_TYPES:
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
        client = self._authenticated_client(body)
        if grant_type not in client.grant_types:
            raise OAuthError(403, "unauthorized_client", f"Grant type '{grant_type}' not allowed for the client.")
        if grant_type == CLIENT_CREDENTIALS_GRANT:
            return self._client_credentials(client, body)
        if grant_type == AUTHORIZATION_CODE_GRANT:
            return self._code_flow.exchange_code(client, body)
        if grant_type == REFRESH_TOKEN_GRANT:
            return self._code_flow.refresh(client, body)
        return self._password_realm(client, body, request)

    def revoke(self, request: Request) -> Response:
        body = request.form_or_json()
        return self._code_flow.revoke(self._authenticated_client(body), body)

    def _authenticated_client(self, body: Mapping[str, Any]) -> Client:
        """The client a token request is from; a public client (the SPA) has no secret to prove."""
        client = self._clients.get(_text(body, "client_id") or "")
        if client is not None and client.client_secret is None:
            return client
        secret = _text(body, "client_secret") or ""
        if client is None or not hmac.compare_digest(secret.encode(), (client.client_secret or "").encode()):
            raise OAuthError(401, "access_denied", "Unauthorized")
        return client

    def _client_credentials(self, client: Client, body: Mapping[str, Any]) -> Response:
        audience = _text(body, "audience")
        if audience is None:
            raise OAuthError(
                403,
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured",
            )
        granted = self._grants.scopes_of(client.client_id)
        if audience == self._site.api_audience or (audience == self._site.management_audience and granted is None):
            raise OAuthError(
                403,
                "access_denied",
                f'Client is not authorized to access "{audience}". '
                'You need to create a "client-grant" associated to this API.',
            )
        if audience != self._site.management_audience:
            raise OAuthError(403, "access_denied", f"Service not found: {audience}")
        requested = (_text(body, "scope") or "").split()
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

    def _password_realm(self, client: Client, body: Mapping[str, Any], request: Request) -> Response:
        username, password = _text(body, "username"), _text(body, "password")
        for name, value in (("username", username), ("password", password)):
            if not value:
                raise OAuthError(400, "invalid_request", f"Missing required parameter: {name}")
        realm = _text(body, "realm")
        if realm is not None and realm != self._tenant.connection:
            raise OAuthError(400, "invalid_request", f"Unknown realm: {realm}")
        audience = _text(body, "audience") or self._site.api_audience
        if audience != self._site.api_audience:
            raise OAuthError(403, "access_denied", f"Service not found: {audience}")
        forwarded_for = (request.header("auth0-forwarded-for") or "").strip() or None
        user = self._tenant.authenticate(
            username=str(username),
            password=str(password),
            ip=forwarded_for or request.client_ip,
            forwarded_for=forwarded_for,
            client_id=client.client_id,
        )
        token, scope = user_access_token(
            self._issuer,
            self._tenant,
            self._site,
            user,
            client_id=client.client_id,
            scope=_text(body, "scope") or "",
            lifetime=self._user_lifetime,
            grant_type="password",
        )
        answer: dict[str, Any] = {"access_token": token}
        if "openid" in scope.split():
            profile = {
                key: value
                for key, value in self._tenant.view(user).items()
                if key in ("email", "email_verified", "name", "nickname", "picture", "updated_at")
            }
            answer["id_token"] = self._issuer.id_token(
                subject=user.user_id, client_id=client.client_id, lifetime=ID_TOKEN_LIFETIME_SECONDS, profile=profile
            )
        answer.update({"scope": scope, "expires_in": self._user_lifetime, "token_type": "Bearer"})
        return json_response(200, answer)

    def change_password(self, request: Request) -> Response:
        body = request.form_or_json()
        for name in ("client_id", "email", "connection"):
            if not _text(body, name):
                raise OAuthError(400, "invalid_request", f"Missing required parameter: {name}")
        client_id = str(_text(body, "client_id"))
        if client_id not in self._clients:
            raise OAuthError(400, "invalid_request", "Unknown client.")
        if _text(body, "connection") != self._tenant.connection:
            raise OAuthError(400, "invalid_request", "connection not found")
        self._tenant.request_password_reset(
            str(_text(body, "email")), client_id=client_id, base_url=self._site.base_url
        )
        return text_response(200, CHANGE_PASSWORD_ANSWER)

    def jwks(self, request: Request) -> Response:
        return json_response(200, self._issuer.jwks(), {"Cache-Control": "public, max-age=15"})

    def openid_configuration(self, request: Request) -> Response:
        base = self._site.base_url
        return json_response(
            200,
            {
                "issuer": self._site.issuer,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "end_session_endpoint": f"{base}/oidc/logout",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "jwks_uri": f"{base}/.well-known/jwks.json",
                "grant_types_supported": list(GRANT_TYPES),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "web_message"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "claims_supported": [
                    "aud",
                    "auth_time",
                    "email",
                    "email_verified",
                    "exp",
                    "iat",
                    "iss",
                    "name",
                    "nickname",
                    "nonce",
                    "picture",
                    "sid",
                    "sub",
                    "updated_at",
                ],
            },
        )


def _text(body: Mapping[str, Any], name: str) -> str | None:
    """A string parameter; absent, null and "" are all None. Any other type is a 400."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise OAuthError(400, "invalid_request", f"Parameter {name} must be a string")
    return value
