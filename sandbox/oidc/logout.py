"""``/v2/logout`` and ``/oidc/logout`` (RP-initiated): end the session, then back to an allowed logout URL."""

from __future__ import annotations

from collections.abc import Mapping

import jwt

from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.pages import error_page, signed_out_page
from sandbox.oidc.redirects import redirect, url_allowed, with_query
from sandbox.oidc.session_cookie import session_cookie, set_cookie
from sandbox.tenant.clients import Client
from sandbox.tenant.keys import ALGORITHM
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import TokenIssuer


class LogoutEndpoints:
    """A ``returnTo`` or ``post_logout_redirect_uri`` outside the allowed logout URLs changes nothing."""

    def __init__(self, *, tenant: Tenant, issuer: TokenIssuer, clients: Mapping[str, Client]) -> None:
        self._store = tenant.sign_ins
        self._issuer = issuer
        self._clients = clients  # live: applications created through /api/v2/clients too

    def routes(self) -> list[Route]:
        return [Route("GET", "/v2/logout", self.logout), Route("GET", "/oidc/logout", self.end_session)]

    def logout(self, request: Request) -> Response:
        """``/v2/logout?client_id=&returnTo=``: a returnTo outside the allow-list changes nothing."""
        client_id, return_to = request.query_value("client_id"), request.query_value("returnTo")
        client = self._clients.get(client_id or "")
        if client_id and client is None:
            return error_page(400, "Invalid request", f"Unknown client: {client_id}")
        allowed = client.logout_urls if client is not None else self._all_logout_urls()
        if return_to is not None and not url_allowed(allowed, return_to):
            return error_page(
                400,
                "Invalid returnTo",
                f'The "returnTo" querystring parameter "{return_to}" is not defined as a valid URL '
                'in "Allowed Logout URLs".',
            )
        target = return_to or (client.logout_urls[0] if client is not None and client.logout_urls else None)
        return self._signed_out(request, target)

    def end_session(self, request: Request) -> Response:
        """OIDC RP-initiated logout: ``id_token_hint`` or ``client_id`` names the client."""
        query = request.query_value
        client = self._clients.get(query("client_id") or self._hinted_client(query("id_token_hint")) or "")
        target = query("post_logout_redirect_uri")
        if target is not None:
            if client is None or not url_allowed(client.logout_urls, target):
                return error_page(
                    400, "Invalid request", "post_logout_redirect_uri is not an allowed logout URL of the client."
                )
            state = query("state")
            if state is not None:
                target = with_query(target, {"state": state})
        return self._signed_out(request, target)

    def _hinted_client(self, id_token: str | None) -> str | None:
        if not id_token:
            return None
        try:
            claims = jwt.decode(
                id_token,
                self._issuer.key.public_key,
                algorithms=[ALGORITHM],
                issuer=self._issuer.issuer,
                options={"verify_aud": False, "verify_exp": False},  # an expired hint still names its client
            )
        except jwt.PyJWTError:
            return None
        audience = claims.get("aud")
        return audience if isinstance(audience, str) else None

    def _signed_out(self, request: Request, target: str | None) -> Response:
        self._store.close_session(session_cookie(request))
        response = redirect(target) if target is not None else signed_out_page()
        response.headers["Set-Cookie"] = set_cookie("", 0)
        return response

    def _all_logout_urls(self) -> tuple[str, ...]:
        return tuple(url for client in self._clients.values() for url in client.logout_urls)
