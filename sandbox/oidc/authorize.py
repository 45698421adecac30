"""What a browser talks to: ``/authorize``, the login page, ``/userinfo``, logout and the set-password page.

As on Auth0, nothing here ever redirects to a URL the application did not register: a bad
``client_id`` or ``redirect_uri`` gets an HTML error page; every other problem goes back to the
application (``?error=`` or a ``web_message``), where the SDK turns it into an error it can show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jwt

from sandbox.defaults import AUTHORIZATION_CODE_GRANT, SESSION_MAX_SECONDS
from sandbox.errors import ManagementError, OAuthError, weak_password
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.oidc.code_flow import profile_claims
from sandbox.oidc.pages import (
    error_page,
    login_page,
    password_changed_page,
    reset_password_page,
    signed_out_page,
    web_message_page,
)
from sandbox.tenant.clients import Client
from sandbox.tenant.keys import ALGORITHM
from sandbox.tenant.sign_ins import Authorization, Session, SignInRejected
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import TokenIssuer, TokenRejected

SESSION_COOKIE = "auth0"
RESPONSE_MODES = ("query", "web_message")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest, unpadded
_WRONG_PASSWORD = "Wrong email or password."  # noqa: S105 - Auth0's message


class BrowserApi:
    """The pages and redirects of Auth0's browser flows; ``sign_in_url`` is where a new password leads."""

    def __init__(
        self, *, tenant: Tenant, site: Site, issuer: TokenIssuer, clients: Mapping[str, Client], sign_in_url: str
    ) -> None:
        self._tenant = tenant
        self._store = tenant.sign_ins
        self._site = site
        self._issuer = issuer
        self._clients = dict(clients)
        self._sign_in_url = sign_in_url

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/authorize", self.authorize),
            Route("GET", "/u/login", self.show_login),
            Route("POST", "/u/login", self.login),
            Route("GET", "/userinfo", self.userinfo),
            Route("GET", "/v2/logout", self.logout),
            Route("GET", "/oidc/logout", self.end_session),
            Route("GET", "/lo/reset", self.show_reset),
            Route("POST", "/lo/reset", self.reset),
        ]

    # --- /authorize -------------------------------------------------------------------------------

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
            return self._issue(authorization, session)
        if "none" in prompts:
            return deliver(
                redirect_uri, response_mode, {"error": "login_required", "error_description": "Login required"}, state
            )
        transaction = self._store.begin(authorization)
        return redirect(f"{self._site.base_url}/u/login?state={quote(transaction)}")

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
        return None

    def _usable_session(self, request: Request, *, max_age: int | None) -> Session | None:
        session = self._store.session(session_cookie(request))
        if session is None:
            return None
        try:
            user = self._tenant.user(session.user_id)
        except ManagementError:
            return None
        if user.profile.get("blocked") is True:
            return None
        if max_age is not None and self._store.now() - session.auth_time > max_age:
            return None
        return session

    def _issue(self, authorization: Authorization, session: Session) -> Response:
        code = self._store.issue_code(authorization, session)
        return deliver(authorization.redirect_uri, authorization.response_mode, {"code": code}, authorization.state)

    # --- the login page ---------------------------------------------------------------------------

    def show_login(self, request: Request) -> Response:
        transaction = request.query_value("state") or ""
        try:
            authorization = self._store.pending(transaction)
        except SignInRejected as rejected:
            return error_page(400, "Sign-in expired", str(rejected))
        return self._login_form(transaction, authorization, username=authorization.login_hint or "")

    def login(self, request: Request) -> Response:
        if not self._from_own_page(request):
            return _foreign_form()
        form = request.form_or_json()
        transaction = _field(form, "state") or request.query_value("state") or ""
        try:
            authorization = self._store.pending(transaction)
        except SignInRejected as rejected:
            return error_page(400, "Sign-in expired", str(rejected))
        username, password = _field(form, "username"), _field(form, "password")
        if not username or not password:
            return self._login_form(
                transaction, authorization, username=username, error="Enter your email and password.", status=400
            )
        try:
            user = self._tenant.authenticate(
                username=username,
                password=password,
                ip=request.client_ip,
                forwarded_for=None,
                client_id=authorization.client_id,
            )
        except OAuthError as refused:
            status, message = _login_refusal(refused)
            return self._login_form(transaction, authorization, username=username, error=message, status=status)
        try:
            authorization = self._store.finish(transaction)
        except SignInRejected as rejected:  # the same page was submitted twice at once
            return error_page(400, "Sign-in expired", str(rejected))
        self._store.close_session(session_cookie(request))
        cookie, session = self._store.open_session(user.user_id)
        response = self._issue(authorization, session)
        response.headers["Set-Cookie"] = _cookie(cookie, SESSION_MAX_SECONDS)
        return response

    def _from_own_page(self, request: Request) -> bool:
        """False for a form another site's page posted: browsers name the page's origin on every POST.

        Without this a stranger's page could sign the browser in to the stranger's account (login CSRF);
        a client that sends no ``Origin`` (a script, a test) is not a browser page and may post.
        """
        origin = request.header("origin")
        port = urlsplit(self._site.base_url).port
        return origin is None or origin in (self._site.base_url, f"http://localhost:{port}")

    def _login_form(
        self,
        transaction: str,
        authorization: Authorization,
        *,
        username: str,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        return login_page(
            action=f"/u/login?state={quote(transaction)}",
            transaction=transaction,
            application=authorization.client_id,
            username=username,
            error=error,
            status=status,
        )

    # --- /userinfo --------------------------------------------------------------------------------

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

    # --- logout -----------------------------------------------------------------------------------

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
                target = _with_query(target, {"state": state})
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
        response.headers["Set-Cookie"] = _cookie("", 0)
        return response

    def _all_logout_urls(self) -> tuple[str, ...]:
        return tuple(url for client in self._clients.values() for url in client.logout_urls)

    # --- the change-password ticket page ----------------------------------------------------------

    def show_reset(self, request: Request) -> Response:
        ticket = request.query_value("ticket") or ""
        try:
            user, _ = self._tenant.ticket_holder(ticket)
        except ManagementError:
            return _expired_ticket()
        return reset_password_page(action="/lo/reset", ticket=ticket, email=user.email)

    def reset(self, request: Request) -> Response:
        if not self._from_own_page(request):
            return _foreign_form()
        form = request.form_or_json()
        ticket = _field(form, "ticket") or request.query_value("ticket") or ""
        try:
            user, _ = self._tenant.ticket_holder(ticket)
        except ManagementError:
            return _expired_ticket()
        password, confirmation = _field(form, "password"), _field(form, "password_confirm")
        problem = None
        if not password:
            problem = "Enter a new password."
        elif password != confirmation:
            problem = "The passwords do not match."
        if problem is None:
            try:
                self._tenant.set_password(password=password, ticket=ticket)
            except ManagementError as refused:
                if refused.body.get("errorCode") != weak_password().body["errorCode"]:
                    return _expired_ticket()
                problem = "Password is too weak: use at least 8 characters."
        if problem is not None:
            return reset_password_page(action="/lo/reset", ticket=ticket, email=user.email, error=problem, status=400)
        return password_changed_page(self._sign_in_url)


def url_allowed(allowed: tuple[str, ...], url: str) -> bool:
    """Exact match, except that ``https://app`` and ``https://app/`` are the same URL."""
    try:
        return bool(url) and _normalised(url) in {_normalised(entry) for entry in allowed}
    except ValueError:  # not even a URL ("http://[::1")
        return False


def deliver(redirect_uri: str, response_mode: str, result: Mapping[str, Any], state: str | None) -> Response:
    """Send an authorization result back to the application the way it asked for."""
    answer = {**result, **({"state": state} if state is not None else {})}
    if response_mode == "web_message":
        parts = urlsplit(redirect_uri)
        return web_message_page(f"{parts.scheme}://{parts.netloc}", answer)
    return redirect(_with_query(redirect_uri, answer))


def redirect(location: str) -> Response:
    return Response(status=302, content_type=None, headers={"Location": location, "Cache-Control": "no-store"})


def session_cookie(request: Request) -> str | None:
    """The ``auth0`` cookie's value (parsed by hand: one odd cookie of another app must not hide it)."""
    for pair in (request.header("cookie") or "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


def _cookie(value: str, max_age: int) -> str:
    # SameSite=Lax: 127.0.0.1:3000 and the sandbox's 127.0.0.1 port are the same site, so the
    # SDK's hidden silent-auth iframe still sends it; no Secure, the sandbox speaks plain HTTP.
    return f"{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"


def _normalised(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path if parts.path not in ("", "/") else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def _with_query(url: str, values: Mapping[str, Any]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(values)}"


def _max_age(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _login_refusal(refused: OAuthError) -> tuple[int, str]:
    """The login page's status and message for what ``Tenant.authenticate`` refused."""
    if refused.status == 429:  # too_many_attempts: Auth0's "account blocked" text
        return 429, str(refused.body["error_description"])
    if refused.status == 401:  # the user is blocked in the Management API
        return 401, "Your account has been blocked. Contact the course's support."
    return 400, _WRONG_PASSWORD


def _foreign_form() -> Response:
    return error_page(403, "Request refused", "This form was sent from another site's page.")


def _expired_ticket() -> Response:
    return error_page(400, "Link expired", "This link has expired or was already used. Ask for a new one.")
