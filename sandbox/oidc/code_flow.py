"""``/oauth/token`` for browsers: ``authorization_code`` with PKCE and ``refresh_token`` with rotation.

The answers are Auth0's: an access token for the API (or only for ``/userinfo`` without an
audience) whose ``permissions`` are the user's roles' permissions at the moment it is issued,
an ID token for the client, and a new refresh token on every use when ``offline_access`` was granted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from sandbox.defaults import ID_TOKEN_LIFETIME_SECONDS, REFRESH_TOKEN_GRANT
from sandbox.errors import ManagementError, OAuthError
from sandbox.http.wire import Response, json_response
from sandbox.tenant.clients import Client
from sandbox.tenant.sign_ins import RefreshGrant, SignInRejected, SignInStore
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import OIDC_SCOPES, TokenIssuer, user_access_token
from sandbox.tenant.users import UserRecord

# RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
PROFILE_CLAIMS = ("name", "nickname", "picture", "updated_at")
EMAIL_CLAIMS = ("email", "email_verified")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def profile_claims(tenant: Tenant, user: UserRecord, scope: str) -> dict[str, Any]:
    """The OIDC claims ``scope`` allows: ``profile`` and ``email``, as Auth0 puts them in ID tokens and /userinfo."""
    scopes = scope.split()
    wanted = (PROFILE_CLAIMS if "profile" in scopes else ()) + (EMAIL_CLAIMS if "email" in scopes else ())
    shown = tenant.view(user)
    return {name: shown[name] for name in wanted if name in shown}


class CodeFlow:
    """The two browser grants and ``/oauth/revoke``, for a client ``AuthenticationApi`` already authenticated."""

    def __init__(self, *, tenant: Tenant, site: Site, issuer: TokenIssuer, access_token_lifetime: int) -> None:
        self._tenant = tenant
        self._store: SignInStore = tenant.sign_ins
        self._site = site
        self._issuer = issuer
        self._lifetime = access_token_lifetime

    def exchange_code(self, client: Client, body: Mapping[str, Any]) -> Response:
        code = _text(body, "code")
        if code is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: code")
        try:
            issued = self._store.redeem_code(code)
        except SignInRejected as rejected:
            raise OAuthError(403, "invalid_grant", str(rejected)) from None
        authorization = issued.authorization
        if authorization.client_id != client.client_id:
            raise OAuthError(403, "invalid_grant", "Invalid authorization code")
        if _text(body, "redirect_uri") != authorization.redirect_uri:
            raise OAuthError(403, "invalid_grant", "The redirect_uri does not match the one used in /authorize")
        verifier = _text(body, "code_verifier") or ""
        if not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
            s256(verifier).encode("ascii"), authorization.code_challenge.encode("ascii")
        ):
            raise OAuthError(403, "invalid_grant", "Failed to verify code verifier")
        user = self._active_user(issued.user_id, issued.family)
        grant = RefreshGrant(
            family=issued.family,
            client_id=client.client_id,
            user_id=user.user_id,
            scope=authorization.scope,
            audience=authorization.audience,
            auth_time=issued.auth_time,
            sid=issued.sid,
            idle_until=0,
        )
        return self._answer(client, user, grant, scope=authorization.scope, nonce=authorization.nonce)

    def refresh(self, client: Client, body: Mapping[str, Any]) -> Response:
        token = _text(body, "refresh_token")
        if token is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: refresh_token")
        try:
            grant = self._store.rotate(token, client.client_id)
        except SignInRejected as rejected:
            raise OAuthError(403, "invalid_grant", str(rejected)) from None
        user = self._active_user(grant.user_id, grant.family)
        # A refresh may narrow the scope, never widen it; the new refresh token keeps the original grant.
        granted = grant.scope.split()
        asked = (_text(body, "scope") or "").split()
        scope = " ".join(entry for entry in granted if not asked or entry in asked)
        return self._answer(client, user, grant, scope=scope, nonce=None)

    def revoke(self, client: Client, body: Mapping[str, Any]) -> Response:
        token = _text(body, "token")
        if token is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: token")
        self._store.revoke(token, client.client_id)
        return Response(status=200, content_type=None, headers=dict(_NO_STORE))

    def _active_user(self, user_id: str, family: str) -> UserRecord:
        try:
            user = self._tenant.user(user_id)
        except ManagementError:  # the user was deleted since
            self._store.revoke_family(family)
            raise OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.") from None
        if user.profile.get("blocked") is True:
            self._store.revoke_family(family)
            raise OAuthError(401, "unauthorized", "user is blocked")
        return user

    def _answer(
        self, client: Client, user: UserRecord, grant: RefreshGrant, *, scope: str, nonce: str | None
    ) -> Response:
        access_token, granted = self._access_token(client, user, grant.audience, scope)
        answer: dict[str, Any] = {"access_token": access_token}
        if "openid" in granted.split():
            claims: dict[str, Any] = {
                **profile_claims(self._tenant, user, granted),
                "auth_time": grant.auth_time,
                "sid": grant.sid,
            }
            if nonce is not None:
                claims["nonce"] = nonce
            answer["id_token"] = self._issuer.id_token(
                subject=user.user_id, client_id=client.client_id, lifetime=ID_TOKEN_LIFETIME_SECONDS, profile=claims
            )
        if "offline_access" in granted.split() and REFRESH_TOKEN_GRANT in client.grant_types:
            try:
                answer["refresh_token"] = self._store.issue_refresh_token(grant)
            except SignInRejected as rejected:  # the family was revoked while this answer was being made
                raise OAuthError(403, "invalid_grant", str(rejected)) from None
        answer.update({"scope": granted, "expires_in": self._lifetime, "token_type": "Bearer"})
        return json_response(200, answer, _NO_STORE)

    def _access_token(self, client: Client, user: UserRecord, audience: str | None, scope: str) -> tuple[str, str]:
        if audience is not None:
            return user_access_token(
                self._issuer,
                self._tenant,
                self._site,
                user,
                client_id=client.client_id,
                scope=scope,
                lifetime=self._lifetime,
            )
        # No audience: Auth0 issues a token good for /userinfo only, with no API permissions.
        granted = " ".join(entry for entry in dict.fromkeys(scope.split()) if entry in OIDC_SCOPES)
        token = self._issuer.access_token(
            subject=user.user_id,
            audience=f"{self._site.base_url}/userinfo",
            client_id=client.client_id,
            scope=granted,
            lifetime=self._lifetime,
        )
        return token, granted


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise OAuthError(400, "invalid_request", f"Parameter {name} must be a string")
    return value
