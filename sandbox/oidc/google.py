"""``/stand-in/google-oauth2``: where Auth0 would send the browser to Google; here, a form that plays Google.

Google answers with the address and whether it verified it: the form's ``email`` and ``email_verified``
(ticked means Google asserts the address is the person's). The user is ``google-oauth2|<number>``, one
account per address, its profile refreshed at every sign-in as Auth0 does for social connections.
"""

from __future__ import annotations

from urllib.parse import quote

from sandbox.errors import OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.completion import LoginCompletion
from sandbox.oidc.forms import form_field, missing_connection, pending_sign_in, posted_sign_in
from sandbox.oidc.pages import error_page, google_page
from sandbox.tenant.connections import GOOGLE
from sandbox.tenant.sign_in_methods import usable_address
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

PATH = "/stand-in/google-oauth2"


class GoogleStandIn:
    def __init__(self, *, tenant: Tenant, site: Site, completion: LoginCompletion) -> None:
        self._tenant = tenant
        self._store = tenant.sign_ins
        self._site = site
        self._completion = completion

    def routes(self) -> list[Route]:
        return [Route("GET", PATH, self.show), Route("POST", PATH, self.sign_in)]

    def show(self, request: Request) -> Response:
        transaction = request.query_value("state") or ""
        authorization = pending_sign_in(self._store, transaction)
        if isinstance(authorization, Response):
            return authorization
        refused = missing_connection(self._tenant, GOOGLE)
        if refused is not None:
            return refused
        return self._form(transaction, authorization.client_id, email=authorization.login_hint or "")

    def sign_in(self, request: Request) -> Response:
        posted = posted_sign_in(request, self._site, self._store)
        if isinstance(posted, Response):
            return posted
        form, transaction, authorization = posted
        email = form_field(form, "email").strip()
        if not usable_address(email):
            return self._form(transaction, authorization.client_id, email=email, error="Enter an email address.")
        try:
            user = self._tenant.methods.google(email=email, email_verified=form_field(form, "email_verified") == "true")
        except OAuthError as refused:
            return error_page(401, "Sign-in refused", str(refused.body["error_description"]))
        return self._completion.signed_in(request, transaction, user, connection=GOOGLE)

    def _form(self, transaction: str, application: str, *, email: str, error: str | None = None) -> Response:
        return google_page(
            action=f"{PATH}?state={quote(transaction)}",
            transaction=transaction,
            application=application,
            email=email,
            error=error,
            status=200 if error is None else 400,
        )
