"""``/lo/reset?ticket=``: the change-password ticket page from the outbox; a ticket sets one password."""

from __future__ import annotations

from sandbox.errors import ManagementError, weak_password
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response
from sandbox.oidc.forms import foreign_form, form_field, from_own_page
from sandbox.oidc.pages import error_page, password_changed_page, reset_password_page
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


class PasswordResetPage:
    """The form, and "Password changed" with a link on to ``sign_in_url`` (the first SPA origin)."""

    def __init__(self, *, tenant: Tenant, site: Site, sign_in_url: str) -> None:
        self._tenant = tenant
        self._site = site
        self._sign_in_url = sign_in_url

    def routes(self) -> list[Route]:
        return [Route("GET", "/lo/reset", self.show), Route("POST", "/lo/reset", self.reset)]

    def show(self, request: Request) -> Response:
        ticket = request.query_value("ticket") or ""
        try:
            user, _ = self._tenant.ticket_holder(ticket)
        except ManagementError:
            return _expired_ticket()
        return reset_password_page(action="/lo/reset", ticket=ticket, email=user.email)

    def reset(self, request: Request) -> Response:
        if not from_own_page(request, self._site):
            return foreign_form()
        form = request.form_or_json()
        ticket = form_field(form, "ticket") or request.query_value("ticket") or ""
        try:
            user, _ = self._tenant.ticket_holder(ticket)
        except ManagementError:
            return _expired_ticket()
        password, confirmation = form_field(form, "password"), form_field(form, "password_confirm")
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


def _expired_ticket() -> Response:
    return error_page(400, "Link expired", "This link has expired or was already used. Ask for a new one.")
