"""Discovery: ``/.well-known/jwks.json`` and ``/.well-known/openid-configuration``, naming every endpoint."""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.tenant.site import Site
from sandbox.tenant.tokens import TokenIssuer

CLAIMS_SUPPORTED = (
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
)


class Discovery:
    """What an SDK reads first: the issuer, the endpoints, the public signing key."""

    def __init__(self, *, site: Site, issuer: TokenIssuer, grant_types: Iterable[str]) -> None:
        self._site = site
        self._issuer = issuer
        self._grant_types = list(grant_types)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/.well-known/jwks.json", self.jwks),
            Route("GET", "/.well-known/openid-configuration", self.openid_configuration),
        ]

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
                "grant_types_supported": self._grant_types,
                "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "web_message"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "claims_supported": list(CLAIMS_SUPPORTED),
            },
        )
