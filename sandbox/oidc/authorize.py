"""``GET /authorize``: check the request, then a code at once (a live session), ``login_required``, or a sign-in page.

``connection`` picks the page: the login page (the database connection, the default), the Google
stand-in (``google-oauth2``) or the passwordless e-mail page (``email``).

As on Auth0, nothing here ever redirects to a URL the application did not register: a bad
``client_id`` or ``redirect_uri`` gets an HTML error page; every other problem goes back to the
application (``?error=`` or a ``web_message``), where the SDK turns it into an error it can show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from sandbox.defaults import AUTHORIZATION_CODE_GRANT
from sandbox.errors import ManagementError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.completion import LoginCompletion
from sandbox.oidc.pages import error_page
from sandbox.oidc.redirects import deliver, redirect, url_allowed
from sandbox.oidc.session_cookie import session_cookie
from sandbox.tenant.clients import Client
from sandbox.tenant.connections import GOOGLE, PASSWORDLESS_EMAIL
from sandbox.tenant.sign_ins import Authorization, Session
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

RESPONSE_MODES = ("query", "web_message")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest, unpadded
# The page each connection signs people in on (the database connection's is the login page).
CONNECTION_PAGES = {GOOGLE: "/stand-in/google-oauth2", PASSWORDLESS_EMAIL: "/u/login/passwordless-email"}
LOGIN_PAGE = "/u/login"


class AuthorizeEndpoint:
    """Where every browser sign-in starts; a signed-in browser gets its code without seeing a page."""

    def __init__(
        self, *, tenant: Tenant, site: Site, clients: Mapping[str, Client], completion: LoginCompletion
    ) -> None:
        self._tenant = tenant
        self._store = tenant.sign_ins
        self._site = site
        self._clients = clients  # live: applications created through /api/v2/clients too
        self._completion = completion

    def routes(self) -> list[Route]:
        return [Route("GET", "/authorize", self.authorize)]

    def authorize(self, request: Request) -> Response:
        query = request.query_value
        client = self._clients.get(query("client_id") or "")
        if client is None or AUTHORIZATION_CODE_GRANT not in client.grant_types:
            return error_page(400, "Invalid request", f"Unknown client: {query('client_id') or '(none)'}")
        redirect_uri = query("redirect_uri") or ""
        if not url_allowed(client.callbacks, redirect_uri):
            return error_page(
                400,
                "Callback URL mismatch",
                f"The provided redirect_uri ({redirect_uri or 'none'}) is not in the list of allowed callback URLs.",
            )
        response_mode = query("response_mode") or "query"
        if response_mode not in RESPONSE_MODES:
            return error_page(400, "Invalid request", f"Unsupported response_mode: {response_mode}")
        state = query("state")
        problem = self._problem(request)
        if problem is not None:
            return deliver(redirect_uri, response_mode, {"error": problem[0], "error_description": problem[1]}, state)
        authorization = Authorization(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            response_mode=response_mode,
            state=state,
            nonce=query("nonce"),
            code_challenge=str(query("code_challenge")),
            scope=" ".join(dict.fromkeys((query("scope") or "").split())),
            audience=query("audience"),
            login_hint=query("login_hint"),
        )
        prompts = set((query("prompt") or "").split())
        session = self._usable_session(request, max_age=_max_age(query("max_age")))
        if session is not None and "login" not in prompts:
            return self._completion.resumed(request, authorization, session)
        if "none" in prompts:
            return deliver(
                redirect_uri, response_mode, {"error": "login_required", "error_description": "Login required"}, state
            )
        transaction = self._store.begin(authorization)
        page = CONNECTION_PAGES.get(query("connection") or "", LOGIN_PAGE)
        return redirect(f"{self._site.base_url}{page}?state={quote(transaction)}")

    def _problem(self, request: Request) -> tuple[str, str] | None:
        """What is wrong with an /authorize request whose client and redirect_uri are fine."""
        query = request.query_value
        if query("response_type") != "code":
            return "unsupported_response_type", f"Unsupported response type: {query('response_type') or '(none)'}"
        challenge = query("code_challenge")
        if challenge is None:
            return "invalid_request", "Parameter 'code_challenge' is required: this application must use PKCE"
        if query("code_challenge_method") != "S256":
            return "invalid_request", "Unsupported code_challenge_method: only S256 is accepted"
        if not _S256_CHALLENGE.fullmatch(challenge):
            return "invalid_request", "code_challenge must be 43 base64url characters (S256)"
        audience = query("audience")
        if audience is not None and audience != self._site.api_audience:
            return "access_denied", f"Service not found: {audience}"
        max_age = query("max_age")
        if max_age is not None and _max_age(max_age) is None:
            return "invalid_request", "max_age must be a number of seconds"
        connection = query("connection")
        if connection is not None and connection not in self._tenant.connections:
            return "invalid_request", f"the connection is not enabled: {connection}"
        return None

    def _usable_session(self, request: Request, *, max_age: int | None) -> Session | None:
        session = self._store.session(session_cookie(request))
        if session is None:
            return None
        try:
            user = self._tenant.account(session.user_id)
        except ManagementError:
            return None
        if user.profile.get("blocked") is True:
            return None
        if max_age is not None and self._store.now() - session.auth_time > max_age:
            return None
        return session


def _max_age(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)
