"""``/oauth/token`` ``authorization_code``: a code, once, for the client, redirect_uri and verifier it is bound to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from sandbox.errors import OAuthError
from sandbox.http.wire import Request, Response, text_parameter
from sandbox.oidc.token_answer import TokenAnswer
from sandbox.tenant.clients import Client
from sandbox.tenant.sign_ins import RefreshGrant, SignInRejected, SignInStore

# RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class AuthorizationCodeGrant:
    """For a client ``TokenEndpoint`` already authenticated (a public client proves only its verifier)."""

    def __init__(self, *, store: SignInStore, answer: TokenAnswer) -> None:
        self._store = store
        self._answer = answer

    def __call__(self, client: Client, body: Mapping[str, Any], request: Request) -> Response:
        code = text_parameter(body, "code")
        if code is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: code")
        try:
            issued = self._store.redeem_code(code)
        except SignInRejected as rejected:
            raise OAuthError(403, "invalid_grant", str(rejected)) from None
        authorization = issued.authorization
        if authorization.client_id != client.client_id:
            raise OAuthError(403, "invalid_grant", "Invalid authorization code")
        if text_parameter(body, "redirect_uri") != authorization.redirect_uri:
            raise OAuthError(403, "invalid_grant", "The redirect_uri does not match the one used in /authorize")
        verifier = text_parameter(body, "code_verifier") or ""
        if not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
            s256(verifier).encode("ascii"), authorization.code_challenge.encode("ascii")
        ):
            raise OAuthError(403, "invalid_grant", "Failed to verify code verifier")
        user = self._answer.active_user(issued.user_id, issued.family)
        grant = RefreshGrant(
            family=issued.family,
            client_id=client.client_id,
            user_id=user.user_id,
            scope=authorization.scope,
            audience=authorization.audience,
            auth_time=issued.auth_time,
            sid=issued.sid,
            idle_until=0,
            connection=issued.connection,
        )
        return self._answer.answer(
            client,
            user,
            grant,
            scope=authorization.scope,
            nonce=authorization.nonce,
            permissions=issued.permissions,
            id_claims=issued.id_claims,
            access_claims=issued.access_claims,
        )
