"""``GET /userinfo``: the profile a browser's access token may read, by the scopes it carries."""

from __future__ import annotations

from sandbox.errors import ManagementError, OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.oidc.claims import profile_claims
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import TokenIssuer, TokenRejected


class UserinfoEndpoint:
    """Answers a Bearer access token whose audience names ``{base}/userinfo``; 401 ``invalid_token`` otherwise."""

    def __init__(self, *, tenant: Tenant, site: Site, issuer: TokenIssuer) -> None:
        self._tenant = tenant
        self._site = site
        self._issuer = issuer

    def routes(self) -> list[Route]:
        return [Route("GET", "/userinfo", self.userinfo)]

    def userinfo(self, request: Request) -> Response:
        token = request.bearer_token()
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if token is None:
            raise OAuthError(401, "invalid_request", "Missing access token", headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = self._issuer.verify(token, audience=f"{self._site.base_url}/userinfo")
        except TokenRejected as rejected:
            raise OAuthError(401, "invalid_token", rejected.message, headers=challenge) from None
        try:
            user = self._tenant.user(str(claims["sub"]))
        except ManagementError:
            raise OAuthError(401, "invalid_token", "The user no longer exists", headers=challenge) from None
        scope = claims.get("scope") if isinstance(claims.get("scope"), str) else ""
        return json_response(200, {"sub": user.user_id, **profile_claims(self._tenant, user, str(scope))})
