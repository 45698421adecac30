"""``/oauth/token`` ``refresh_token`` with rotation, and the revocation of a refresh token's family."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.actions.post_login import REFRESH, LoginContext, LoginRefused, PostLoginTrigger
from sandbox.errors import OAuthError
from sandbox.http.wire import Request, Response, text_parameter
from sandbox.oidc.token_answer import NO_STORE, TokenAnswer
from sandbox.tenant.clients import Client
from sandbox.tenant.sign_ins import SignInRejected, SignInStore


class RefreshTokenGrant:
    """Every use answers a new refresh token; a used one revokes its family (``/oauth/revoke`` too).

    The post-login trigger runs for every exchange, with ``oauth2-refresh-token`` as its protocol.
    """

    def __init__(self, *, store: SignInStore, answer: TokenAnswer, trigger: PostLoginTrigger) -> None:
        self._store = store
        self._answer = answer
        self._trigger = trigger

    def __call__(self, client: Client, body: Mapping[str, Any], request: Request) -> Response:
        token = text_parameter(body, "refresh_token")
        if token is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: refresh_token")
        try:
            grant = self._store.rotate(token, client.client_id)
        except SignInRejected as rejected:
            raise OAuthError(403, "invalid_grant", str(rejected)) from None
        user = self._answer.active_user(grant.user_id, grant.family)
        # A refresh may narrow the scope, never widen it; the new refresh token keeps the original grant.
        granted = grant.scope.split()
        asked = (text_parameter(body, "scope") or "").split()
        scope = " ".join(entry for entry in granted if not asked or entry in asked)
        context = LoginContext(
            user=user,
            connection=grant.connection,
            client_id=client.client_id,
            protocol=REFRESH,
            scope=scope,
            audience=grant.audience,
            request=request,
            session_id=grant.sid,
        )
        try:
            outcome = self._trigger.run(context)
        except LoginRefused as refused:
            raise OAuthError(403, refused.error, refused.description) from None
        user = self._answer.active_user(outcome.user_id, grant.family)
        return self._answer.answer(
            client,
            user,
            grant,
            scope=outcome.scope,
            nonce=None,
            id_claims=outcome.id_claims,
            access_claims=outcome.access_claims,
        )

    def revoke(self, client: Client, body: Mapping[str, Any]) -> Response:
        token = text_parameter(body, "token")
        if token is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: token")
        self._store.revoke(token, client.client_id)
        return Response(status=200, content_type=None, headers=dict(NO_STORE))
