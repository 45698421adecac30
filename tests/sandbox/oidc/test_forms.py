"""The pages' forms: only a page of the sandbox's own origin (scheme, host and port) may post them.

Browsers count every port of 127.0.0.1 as one site, so a page on another port (the SPA's, anything a
developer runs) is same-site: comparing host names alone would let it sign a browser in (login CSRF)
or set a password with a ticket it got hold of.
"""

from __future__ import annotations

import re

import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import PASSWORD, SPA, TIMEOUT, Browser, Pkce, new_buyer_ticket_url, seed_buyer

_TICKET_FIELD = re.compile(r'<input type="hidden" name="ticket" value="([^"]+)">')


def other_origins(server: SandboxServer) -> list[str]:
    """Origins of pages that are not the sandbox's own, most of them on the same host."""
    return [
        SPA,
        f"http://127.0.0.1:{server.port + 1}",
        f"http://localhost:{server.port + 1}",
        f"https://127.0.0.1:{server.port}",
        "http://127.0.0.1",
        "null",  # a sandboxed frame, a data: URL, a page with Referrer-Policy: no-referrer
    ]


def test_a_login_form_posted_from_another_port_of_the_same_host_signs_nobody_in(server: SandboxServer) -> None:
    seed_buyer(server)
    browser = Browser(server)
    page = browser.login_page(Pkce())
    for origin in other_origins(server):
        browser.http.headers["Origin"] = origin
        refused = browser.submit(page, "buyer@example.com", PASSWORD)
        assert (refused.status_code, "Set-Cookie" in refused.headers) == (403, False), origin
    assert browser.session_cookie() is None
    browser.http.headers["Origin"] = f"http://localhost:{server.port}"  # the sandbox's page opened as localhost
    assert browser.submit(page, "buyer@example.com", PASSWORD).status_code == 302


def test_a_set_password_form_posted_from_another_port_of_the_same_host_changes_nothing(
    server: SandboxServer,
) -> None:
    page = requests.get(new_buyer_ticket_url(server), timeout=TIMEOUT)
    found = _TICKET_FIELD.search(page.text)
    assert found is not None
    form = {"ticket": found.group(1), "password": "a brand new password", "password_confirm": "a brand new password"}
    action = page.url.split("?", 1)[0]
    for origin in other_origins(server):
        refused = requests.post(action, data=form, headers={"Origin": origin}, timeout=TIMEOUT)
        assert refused.status_code == 403, origin
    user = server.tenant.database_user("new@example.com")
    assert user is not None
    assert user.password_hash is None
    done = requests.post(action, data=form, headers={"Origin": server.base_url}, timeout=TIMEOUT)
    assert done.status_code == 200
