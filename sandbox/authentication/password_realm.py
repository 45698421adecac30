"""``/oauth/token`` password-realm: a person's password for their access token, with brute-force protection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.actions.post_login import PASSWORD_EXCHANGE, LoginContext, LoginRefused, PostLoginTrigger
from sandbox.defaults import ID_TOKEN_LIFETIME_SECONDS
from sandbox.errors import OAuthError
from sandbox.http.wire import Request, Response, json_response, text_parameter
from sandbox.tenant.clients import Client
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import TokenIssuer, user_access_token


class PasswordRealmGrant:
    """``auth0-forwarded-for`` is the IP the attempt is counted and recorded for, as at Auth0.

    The post-login trigger runs before the tokens are issued (protocol ``oauth2-password``).
    """

    def __init__(
        self, *, tenant: Tenant, site: Site, issuer: TokenIssuer, lifetime: int, trigger: PostLoginTrigger
    ) -> None:
        self._tenant = tenant
        self._site = site
        self._issuer = issuer
        self._lifetime = lifetime
        self._trigger = trigger

    def __call__(self, client: Client, body: Mapping[str, Any], request: Request) -> Response:
        username, password = text_parameter(body, "username"), text_parameter(body, "password")
        for name, value in (("username", username), ("password", password)):
            if not value:
                raise OAuthError(400, "invalid_request", f"Missing required parameter: {name}")
        realm = text_parameter(body, "realm")
        if realm is not None and realm != self._tenant.connection:
            raise OAuthError(400, "invalid_request", f"Unknown realm: {realm}")
        audience = text_parameter(body, "audience") or self._site.api_audience
        if audience != self._site.api_audience:
            raise OAuthError(403, "access_denied", f"Service not found: {audience}")
        forwarded_for = (request.header("auth0-forwarded-for") or "").strip() or None
        user = self._tenant.passwords.authenticate(
            username=str(username),
            password=str(password),
            ip=forwarded_for or request.client_ip,
            forwarded_for=forwarded_for,
            client_id=client.client_id,
        )
        context = LoginContext(
            user=user,
            connection=self._tenant.connection,
            client_id=client.client_id,
            protocol=PASSWORD_EXCHANGE,
            scope=text_parameter(body, "scope") or "",
            audience=audience,
            request=request,
        )
        try:
            outcome = self._trigger.run(context)
        except LoginRefused as refused:
            raise OAuthError(403, refused.error, refused.description) from None
        user = self._tenant.account(outcome.user_id)
        token, scope = user_access_token(
            self._issuer,
            self._tenant,
            self._site,
            user,
            client_id=client.client_id,
            scope=outcome.scope,
            lifetime=self._lifetime,
            grant_type="password",
            permissions=outcome.permissions,
            custom_claims=outcome.access_claims,
        )
        answer: dict[str, Any] = {"access_token": token}
        if "openid" in scope.split():
            profile = {
                **outcome.id_claims,
                **{
                    key: value
                    for key, value in self._tenant.view(user).items()
                    if key in ("email", "email_verified", "name", "nickname", "picture", "updated_at")
                },
            }
            answer["id_token"] = self._issuer.id_token(
                subject=user.user_id, client_id=client.client_id, lifetime=ID_TOKEN_LIFETIME_SECONDS, profile=profile
            )
        answer.update({"scope": scope, "expires_in": self._lifetime, "token_type": "Bearer"})
        return json_response(200, answer)
