"""The login page's "Forgot password?": an address, Auth0's change-password e-mail in the outbox, back to the login."""

from __future__ import annotations

import html
import re

import requests

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import PASSWORD, TIMEOUT, Browser, Pkce, code_from, hidden_state, seed_buyer

NEW_PASSWORD = "a whole new passphrase"


def forgot_page(browser: Browser, pkce: Pkce) -> requests.Response:
    """From the login page, follow its "Forgot password?" link."""
    login = browser.login_page(pkce)
    link = re.search(r'<a href="([^"]+)">Forgot password\?</a>', login.text)
    assert link is not None, login.text
    return browser.http.get(browser.server.base_url + html.unescape(link.group(1)), timeout=TIMEOUT)


def ask(browser: Browser, page: requests.Response, email: str) -> requests.Response:
    return browser.http.post(page.url, data={"state": hidden_state(page), "email": email}, timeout=TIMEOUT)


def outbox(server: SandboxServer, email: str) -> list[dict[str, str]]:
    answer = requests.get(f"{server.base_url}/sandbox/outbox", params={"to": email}, timeout=TIMEOUT)
    messages: list[dict[str, str]] = answer.json()["messages"]
    return messages


def test_the_login_page_links_to_a_form_for_the_same_sign_in(server: SandboxServer) -> None:
    browser, pkce = Browser(server), Pkce()

    page = forgot_page(browser, pkce)

    assert page.status_code == 200
    assert page.url.startswith(f"{server.base_url}/u/reset-password/request?state=")
    assert "Forgot your password?" in page.text
    assert re.search(r'<input id="email" name="email" type="email"', page.text)
    back = re.search(r'<a href="([^"]+)">Back to ', page.text)
    assert back is not None
    assert html.unescape(back.group(1)) == f"/u/login?state={hidden_state(page)}"


def test_a_buyer_gets_the_change_password_e_mail_for_the_application_and_signs_in_with_the_new_password(
    server: SandboxServer,
) -> None:
    seed_buyer(server, "forgetful@example.com")
    browser, pkce = Browser(server), Pkce()
    page = forgot_page(browser, pkce)

    sent = ask(browser, page, "Forgetful@Example.com")

    assert sent.status_code == 200
    assert "Please check the email address Forgetful@Example.com for instructions" in sent.text
    [message] = outbox(server, "forgetful@example.com")
    assert (message["kind"], message["client_id"]) == ("password_reset", SPA_CLIENT_ID)
    reset = browser.http.post(
        f"{server.base_url}/lo/reset",
        data={"ticket": message["ticket"], "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        timeout=TIMEOUT,
    )
    assert "Password changed" in reset.text
    again, later = Pkce(), Browser(server)
    assert code_from(later.submit(later.login_page(again), "forgetful@example.com", NEW_PASSWORD), again)
    other = Browser(server)
    refused = other.submit(other.login_page(Pkce()), "forgetful@example.com", PASSWORD)
    assert refused.status_code == 400
    assert "Wrong email or password." in refused.text


def test_an_unknown_address_gets_the_same_answer_and_no_e_mail(server: SandboxServer) -> None:
    browser = Browser(server)
    page = forgot_page(browser, Pkce())

    sent = ask(browser, page, "nobody@example.com")

    assert sent.status_code == 200
    assert "Please check the email address nobody@example.com for instructions" in sent.text
    assert outbox(server, "nobody@example.com") == []


def test_no_address_shows_the_form_again_and_a_foreign_page_is_refused(server: SandboxServer) -> None:
    browser = Browser(server)
    page = forgot_page(browser, Pkce())

    empty = ask(browser, page, "  ")
    not_an_address = ask(browser, page, "someone@nowhere")  # no domain a mail could go to
    foreign = browser.http.post(
        page.url,
        data={"state": hidden_state(page), "email": "someone@example.com"},
        headers={"Origin": "http://127.0.0.1:1"},
        timeout=TIMEOUT,
    )
    expired = browser.http.get(f"{server.base_url}/u/reset-password/request?state=nope", timeout=TIMEOUT)

    assert empty.status_code == 400
    assert "Enter an email address." in empty.text
    assert not_an_address.status_code == 400
    assert "Enter an email address." in not_an_address.text
    assert foreign.status_code == 403
    assert expired.status_code == 400
    assert outbox(server, "someone@example.com") == []
