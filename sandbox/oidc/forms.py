"""The pages' forms: only the sandbox's own pages may post them, and their fields are read as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sandbox.http.wire import Request, Response
from sandbox.oidc.pages import error_page
from sandbox.tenant.site import Site


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
