"""What a browser's code or refresh token is exchanged for at ``/oauth/token``, as Auth0 answers it.

An access token for the API (or only for ``/userinfo`` without an audience) whose ``permissions``
are the user's roles' permissions at the moment it is issued, an ID token for the client, and a
new refresh token on every use when ``offline_access`` was granted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.defaults import ID_TOKEN_LIFETIME_SECONDS, REFRESH_TOKEN_GRANT
from sandbox.errors import ManagementError, OAuthError
from sandbox.http.wire import Response, json_response
from sandbox.oidc.claims import profile_claims
from sandbox.tenant.clients import Client
from sandbox.tenant.sign_ins import RefreshGrant, SignInRejected, SignInStore
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import OIDC_SCOPES, TokenIssuer, user_access_token
from sandbox.tenant.users import UserRecord

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenAnswer:
    """The tokens of the two browser grants, for a user who may still have them."""

    def __init__(self, *, tenant: Tenant, site: Site, issuer: TokenIssuer, access_token_lifetime: int) -> None:
        self._tenant = tenant
        self._store: SignInStore = tenant.sign_ins
        self._site = site
        self._issuer = issuer
        self._lifetime = access_token_lifetime

    def active_user(self, user_id: str, family: str) -> UserRecord:
        """The grant's user (the one it was linked into, if it was); a deleted or blocked one revokes the family."""
        try:
            user = self._tenant.account(user_id)
        except ManagementError:  # the user was deleted since
            self._store.revoke_family(family)
            raise OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.") from None
        if user.profile.get("blocked") is True:
            self._store.revoke_family(family)
            raise OAuthError(401, "unauthorized", "user is blocked")
        return user

    def answer(
        self,
        client: Client,
        user: UserRecord,
        grant: RefreshGrant,
        *,
        scope: str,
        nonce: str | None,
        permissions: tuple[str, ...] | None = None,
        id_claims: Mapping[str, Any] | None = None,
        access_claims: Mapping[str, Any] | None = None,
    ) -> Response:
        """``permissions``: as when the login started (the post-login trigger took them); the claims, an Action's."""
        access_token, granted = self._access_token(client, user, grant.audience, scope, permissions, access_claims)
        answer: dict[str, Any] = {"access_token": access_token}
        if "openid" in granted.split():
            claims: dict[str, Any] = {
                **dict(id_claims or {}),
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
        return json_response(200, answer, NO_STORE)

    def _access_token(
        self,
        client: Client,
        user: UserRecord,
        audience: str | None,
        scope: str,
        permissions: tuple[str, ...] | None,
        custom_claims: Mapping[str, Any] | None,
    ) -> tuple[str, str]:
        if audience is not None:
            return user_access_token(
                self._issuer,
                self._tenant,
                self._site,
                user,
                client_id=client.client_id,
                scope=scope,
                lifetime=self._lifetime,
                permissions=permissions,
                custom_claims=custom_claims,
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
