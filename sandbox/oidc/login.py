"""``/u/login``: the login page (like Universal Login): a password, or the way to Google or an e-mail code."""

from __future__ import annotations

from urllib.parse import quote

from sandbox.errors import OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.completion import LoginCompletion
from sandbox.oidc.forms import form_field, pending_sign_in, posted_sign_in
from sandbox.oidc.google import PATH as GOOGLE_PAGE
from sandbox.oidc.pages import login_page
from sandbox.oidc.passwordless import START as PASSWORDLESS_PAGE
from sandbox.tenant.connections import GOOGLE, PASSWORDLESS_EMAIL
from sandbox.tenant.sign_ins import Authorization
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

_WRONG_PASSWORD = "Wrong email or password."  # noqa: S105 - Auth0's message
# The other ways in, each shown when the tenant has its connection: the page it opens and the button's label.
_OTHER_WAYS = {
    GOOGLE: (GOOGLE_PAGE, "Continue with Google"),
    PASSWORDLESS_EMAIL: (PASSWORDLESS_PAGE, "Email me a code"),
}


class LoginPage:
    """One page per login transaction (``?state=``); it signs in once."""

    def __init__(self, *, tenant: Tenant, site: Site, completion: LoginCompletion) -> None:
        self._tenant = tenant
        self._store = tenant.sign_ins
        self._site = site
        self._completion = completion

    def routes(self) -> list[Route]:
        return [Route("GET", "/u/login", self.show), Route("POST", "/u/login", self.login)]

    def show(self, request: Request) -> Response:
        transaction = request.query_value("state") or ""
        authorization = pending_sign_in(self._store, transaction)
        if isinstance(authorization, Response):
            return authorization
        return self._form(transaction, authorization, username=authorization.login_hint or "")

    def login(self, request: Request) -> Response:
        posted = posted_sign_in(request, self._site, self._store)
        if isinstance(posted, Response):
            return posted
        form, transaction, authorization = posted
        username, password = form_field(form, "username"), form_field(form, "password")
        if not username or not password:
            return self._form(
                transaction, authorization, username=username, error="Enter your email and password.", status=400
            )
        try:
            user = self._tenant.passwords.authenticate(
                username=username,
                password=password,
                ip=request.client_ip,
                forwarded_for=None,
                client_id=authorization.client_id,
            )
        except OAuthError as refused:
            status, message = _login_refusal(refused)
            return self._form(transaction, authorization, username=username, error=message, status=status)
        return self._completion.signed_in(request, transaction, user, connection=self._tenant.connection)

    def _form(
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
            other_ways=[_OTHER_WAYS[name] for name in self._tenant.methods.offered()],
            error=error,
            status=status,
        )


def _login_refusal(refused: OAuthError) -> tuple[int, str]:
    """The login page's status and message for what ``PasswordSignIn.authenticate`` refused."""
    if refused.status == 429:  # too_many_attempts: Auth0's "account blocked" text
        return 429, str(refused.body["error_description"])
    if refused.status == 401:  # the user is blocked in the Management API
        return 401, "Your account has been blocked. Contact the course's support."
    return 400, _WRONG_PASSWORD
