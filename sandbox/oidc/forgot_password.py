"""``/u/reset-password/request``: the login page's "Forgot password?": the change-password e-mail, into the outbox.

As Auth0's page: one address, the same "Check your email" answer whether or not it has a user, the e-mail sent
for the application the login is for, and a way back to the login page of the same transaction.
"""

from __future__ import annotations

from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.forms import form_field, pending_sign_in, posted_sign_in
from sandbox.oidc.pages import FORGOT_PASSWORD, check_email_page, forgot_password_page
from sandbox.tenant.sign_in_methods import usable_address
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


class ForgotPasswordPage:
    def __init__(self, *, tenant: Tenant, site: Site) -> None:
        self._tenant = tenant
        self._site = site

    def routes(self) -> list[Route]:
        return [Route("GET", FORGOT_PASSWORD, self.show), Route("POST", FORGOT_PASSWORD, self.send)]

    def show(self, request: Request) -> Response:
        transaction = request.query_value("state") or ""
        authorization = pending_sign_in(self._tenant.sign_ins, transaction)
        if isinstance(authorization, Response):
            return authorization
        return forgot_password_page(
            transaction=transaction, application=authorization.client_id, email=authorization.login_hint or ""
        )

    def send(self, request: Request) -> Response:
        posted = posted_sign_in(request, self._site, self._tenant.sign_ins)
        if isinstance(posted, Response):
            return posted
        form, transaction, authorization = posted
        email = form_field(form, "email").strip()
        if not usable_address(email):
            return forgot_password_page(
                transaction=transaction,
                application=authorization.client_id,
                email=email,
                error="Enter an email address.",
                status=400,
            )
        self._tenant.request_password_reset(email, client_id=authorization.client_id, base_url=self._site.base_url)
        return check_email_page(transaction=transaction, application=authorization.client_id, email=email)
