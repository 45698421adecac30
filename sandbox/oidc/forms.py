"""The pages' forms: only the sandbox's own pages may post them, and their fields are read as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sandbox.http.wire import Request, Response
from sandbox.oidc.pages import error_page
from sandbox.tenant.sign_ins import Authorization, SignInRejected, SignInStore
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


def from_own_page(request: Request, site: Site) -> bool:
    """False for a form another site's page posted: browsers name the page's origin on every POST.

    Without this a stranger's page could sign the browser in to the stranger's account (login CSRF);
    a client that sends no ``Origin`` (a script, a test) is not a browser page and may post.
    """
    origin = request.header("origin")
    port = urlsplit(site.base_url).port
    return origin is None or origin in (site.base_url, f"http://localhost:{port}")


def foreign_form() -> Response:
    return error_page(403, "Request refused", "This form was sent from another site's page.")


def form_field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def missing_connection(tenant: Tenant, connection: str) -> Response | None:
    """The refusal of a way in the tenant has no connection for (a bare tenant before `ops tenant apply`)."""
    if connection in tenant.methods.offered():
        return None
    return error_page(400, "Sign-in refused", f"This tenant has no {connection} connection.")


def pending_sign_in(store: SignInStore, transaction: str) -> Authorization | Response:
    """The login transaction a page belongs to, or the page that says it expired (or never was)."""
    try:
        return store.pending(transaction)
    except SignInRejected as rejected:
        return error_page(400, "Sign-in expired", str(rejected))


def posted_sign_in(
    request: Request, site: Site, store: SignInStore
) -> tuple[Mapping[str, Any], str, Authorization] | Response:
    """A form posted by one of the sandbox's own pages: its fields, its transaction and that login; else the refusal."""
    if not from_own_page(request, site):
        return foreign_form()
    form = request.form_or_json()
    transaction = form_field(form, "state") or request.query_value("state") or ""
    authorization = pending_sign_in(store, transaction)
    if isinstance(authorization, Response):
        return authorization
    return form, transaction, authorization
