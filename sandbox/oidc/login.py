"""``/u/login``: the login page (like Universal Login): a password, or the way to Google or an e-mail code."""

from __future__ import annotations

from urllib.parse import quote

from sandbox.errors import OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.completion import LoginCompletion
from sandbox.oidc.forms import foreign_form, form_field, from_own_page
from sandbox.oidc.pages import error_page, login_page
from sandbox.tenant.sign_ins import Authorization, SignInRejected
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

_WRONG_PASSWORD = "Wrong email or password."  # noqa: S105 - Auth0's message


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
        try:
            authorization = self._store.pending(transaction)
        except SignInRejected as rejected:
            return error_page(400, "Sign-in expired", str(rejected))
        return self._form(transaction, authorization, username=authorization.login_hint or "")

    def login(self, request: Request) -> Response:
        if not from_own_page(request, self._site):
            return foreign_form()
        form = request.form_or_json()
        transaction = form_field(form, "state") or request.query_value("state") or ""
        try:
            authorization = self._store.pending(transaction)
        except SignInRejected as rejected:
            return error_page(400, "Sign-in expired", str(rejected))
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
