"""The page behind the outbox's change-password ticket: a new buyer sets a password, then signs in."""

from __future__ import annotations

import re

import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import SPA, TIMEOUT, Browser, Pkce, exchange, new_buyer_ticket_url, refresh

NEW_PASSWORD = "a brand new password"
_TICKET_FIELD = re.compile(r'<input type="hidden" name="ticket" value="([^"]+)">')


def submit(page: requests.Response, password: str, confirmation: str) -> requests.Response:
    found = _TICKET_FIELD.search(page.text)
    assert found is not None, page.text
    form = {"ticket": found.group(1), "password": password, "password_confirm": confirmation}
    action = page.url.split("?", 1)[0]
    return requests.post(action, data=form, allow_redirects=False, timeout=TIMEOUT)


def test_the_ticket_link_sets_a_password_and_sends_the_buyer_on_to_sign_in(server: SandboxServer) -> None:
    url = new_buyer_ticket_url(server)
    assert url.startswith(f"{server.base_url}/lo/reset?ticket=")
    page = requests.get(url, timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "new@example.com" in page.text
    done = submit(page, NEW_PASSWORD, NEW_PASSWORD)
    assert done.status_code == 200
    assert f'href="{SPA}"' in done.text
    user = server.tenant.database_user("new@example.com")
    assert user is not None
    assert user.email_verified is True
    pkce = Pkce()
    code = Browser(server).sign_in(pkce, "new@example.com", NEW_PASSWORD)
    assert exchange(server, code, pkce).status_code == 200


def test_the_ticket_works_once(server: SandboxServer) -> None:
    url = new_buyer_ticket_url(server)
    page = requests.get(url, timeout=TIMEOUT)
    assert submit(page, NEW_PASSWORD, NEW_PASSWORD).status_code == 200
    again = submit(page, "another new password", "another new password")
    reopened = requests.get(url, timeout=TIMEOUT)
    assert (again.status_code, reopened.status_code) == (400, 400)
    assert "expired or was already used" in reopened.text
    pkce = Pkce()
    assert Browser(server).sign_in(pkce, "new@example.com", NEW_PASSWORD)


def test_mismatched_or_weak_passwords_show_a_message_and_keep_the_ticket(server: SandboxServer) -> None:
    page = requests.get(new_buyer_ticket_url(server), timeout=TIMEOUT)
    mismatch = submit(page, NEW_PASSWORD, NEW_PASSWORD + "!")
    weak = submit(page, "short", "short")
    assert (mismatch.status_code, weak.status_code) == (400, 400)
    assert "do not match" in mismatch.text
    assert "too weak" in weak.text
    user = server.tenant.database_user("new@example.com")
    assert user is not None
    assert user.password_hash is None
    assert submit(page, NEW_PASSWORD, NEW_PASSWORD).status_code == 200


def test_a_made_up_ticket_gets_an_error_page(server: SandboxServer) -> None:
    answer = requests.get(f"{server.base_url}/lo/reset", params={"ticket": "made-up"}, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/html")


def test_a_set_password_form_posted_from_another_site_s_page_changes_nothing(server: SandboxServer) -> None:
    page = requests.get(new_buyer_ticket_url(server), timeout=TIMEOUT)
    found = _TICKET_FIELD.search(page.text)
    assert found is not None
    refused = requests.post(
        page.url.split("?", 1)[0],
        data={"ticket": found.group(1), "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        headers={"Origin": "https://evil.example"},
        timeout=TIMEOUT,
    )
    assert refused.status_code == 403
    user = server.tenant.database_user("new@example.com")
    assert user is not None
    assert user.password_hash is None


def test_a_password_reset_ends_the_accounts_sessions_but_leaves_its_refresh_tokens_as_auth0_does(
    server: SandboxServer,
) -> None:
    """Auth0 ends sessions on a password change and keeps refresh tokens (revoking them is the tenant's job):
    a squatter's refresh token minted before the owner takes the address back survives the reset."""
    url = new_buyer_ticket_url(server)
    assert submit(requests.get(url, timeout=TIMEOUT), NEW_PASSWORD, NEW_PASSWORD).status_code == 200
    squatter, pkce = Browser(server), Pkce()
    tokens = exchange(server, squatter.sign_in(pkce, "new@example.com", NEW_PASSWORD), pkce).json()

    asked = requests.post(
        f"{server.base_url}/dbconnections/change_password",
        json={
            "client_id": "sandbox-m2m-client",
            "email": "new@example.com",
            "connection": "Username-Password-Authentication",
        },
        timeout=TIMEOUT,
    )
    assert asked.status_code == 200
    outbox = requests.get(f"{server.base_url}/sandbox/outbox", params={"to": "new@example.com"}, timeout=TIMEOUT)
    owners_link = outbox.json()["messages"][-1]["ticket_url"]
    assert (
        submit(
            requests.get(owners_link, timeout=TIMEOUT), "the owners own password", "the owners own password"
        ).status_code
        == 200
    )

    silent = squatter.authorize(Pkce(), prompt="none")
    assert "error=login_required" in silent.headers["Location"]  # the session is gone
    assert refresh(server, tokens["refresh_token"]).status_code == 200  # the refresh token is not
