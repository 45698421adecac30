"""``/u/login/passwordless-email``: an address, a six-digit code in the outbox, then the code page.

The code (one use, five minutes, three tries: ``sandbox.tenant.passwordless``) proves the mailbox, so
the user, ``email|<id>``, has ``email_verified: true``.
"""

from __future__ import annotations

from urllib.parse import quote

from sandbox.errors import OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.completion import LoginCompletion
from sandbox.oidc.forms import form_field, missing_connection, pending_sign_in, posted_sign_in
from sandbox.oidc.pages import error_page, passwordless_code_page, passwordless_email_page
from sandbox.tenant.connections import PASSWORDLESS_EMAIL
from sandbox.tenant.passwordless import CodeRejected
from sandbox.tenant.sign_ins import Authorization
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

START = "/u/login/passwordless-email"
CHALLENGE = "/u/login/passwordless-email-challenge"


class PasswordlessEmail:
    def __init__(self, *, tenant: Tenant, site: Site, completion: LoginCompletion) -> None:
        self._tenant = tenant
        self._store = tenant.sign_ins
        self._site = site
        self._completion = completion

    def routes(self) -> list[Route]:
        return [Route("GET", START, self.show), Route("POST", START, self.send), Route("POST", CHALLENGE, self.verify)]

    def show(self, request: Request) -> Response:
        transaction = request.query_value("state") or ""
        authorization = pending_sign_in(self._store, transaction)
        if isinstance(authorization, Response):
            return authorization
        refused = missing_connection(self._tenant, PASSWORDLESS_EMAIL)
        if refused is not None:
            return refused
        return self._start_page(transaction, authorization, email=authorization.login_hint or "")

    def send(self, request: Request) -> Response:
        """Put a code in the outbox for the address, then show the page that asks for it."""
        posted = posted_sign_in(request, self._site, self._store)
        if isinstance(posted, Response):
            return posted
        form, transaction, authorization = posted
        try:
            address = self._tenant.methods.start_passwordless(form_field(form, "email"))
        except OAuthError as refused:
            if refused.body["error"] != "bad.email":
                return error_page(400, "Sign-in refused", str(refused.body["error_description"]))
            return self._start_page(
                transaction, authorization, email=form_field(form, "email"), error="Enter an email address."
            )
        return self._code_page(transaction, address)

    def verify(self, request: Request) -> Response:
        posted = posted_sign_in(request, self._site, self._store)
        if isinstance(posted, Response):
            return posted
        form, transaction, _ = posted
        address = form_field(form, "email").strip().lower()
        try:
            user = self._tenant.methods.passwordless(address, form_field(form, "code"))
        except CodeRejected as rejected:
            return self._code_page(transaction, address, error=str(rejected), status=400)
        except OAuthError as refused:
            return error_page(401, "Sign-in refused", str(refused.body["error_description"]))
        return self._completion.signed_in(request, transaction, user, connection=PASSWORDLESS_EMAIL)

    def _start_page(
        self, transaction: str, authorization: Authorization, *, email: str, error: str | None = None
    ) -> Response:
        return passwordless_email_page(
            action=f"{START}?state={quote(transaction)}",
            transaction=transaction,
            application=authorization.client_id,
            email=email,
            error=error,
            status=200 if error is None else 400,
        )

    def _code_page(self, transaction: str, email: str, *, error: str | None = None, status: int = 200) -> Response:
        return passwordless_code_page(
            action=f"{CHALLENGE}?state={quote(transaction)}",
            restart=f"{START}?state={quote(transaction)}",
            transaction=transaction,
            email=email,
            error=error,
            status=status,
        )
