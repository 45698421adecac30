"""Passwordless e-mail: an address, a six-digit code in the outbox, the code page, and the ``email|`` user."""

from __future__ import annotations

import re

import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import TIMEOUT, Browser, Pkce, claims_of, code_from, exchange, hidden_state, outbox_code
from tests.sandbox.support import api


def test_authorize_with_the_email_connection_asks_for_an_address(server: SandboxServer) -> None:
    page = Browser(server).connection_page(Pkce(), "email", "/u/login/passwordless-email")

    assert page.status_code == 200
    assert re.search(r'<input id="email" name="email" type="email"', page.text)


def test_the_code_arrives_in_the_outbox_for_the_lower_cased_address_and_the_next_page_asks_for_it(
    server: SandboxServer,
) -> None:
    code_page = Browser(server).ask_for_code(Pkce(), "Erin@Example.com")
    outbox = requests.get(f"{server.base_url}/sandbox/outbox", params={"to": "erin@example.com"}, timeout=TIMEOUT)

    (message,) = outbox.json()["messages"]
    assert message["kind"] == "passwordless_code"
    assert re.fullmatch(r"\d{6}", message["code"])
    assert re.search(r'<input id="code" name="code"', code_page.text)


def test_the_right_code_signs_in_an_email_user_whose_address_is_verified(server: SandboxServer) -> None:
    pkce = Pkce()
    answer = Browser(server).passwordless(pkce, "frank@example.com")
    identity = claims_of(exchange(server, code_from(answer, pkce), pkce).json()["id_token"])

    assert re.fullmatch(r"email\|[0-9a-f]{24}", str(identity["sub"]))
    assert (identity["email"], identity["email_verified"]) == ("frank@example.com", True)
    shown = api(server, "GET", f"/api/v2/users/{identity['sub']}").json()
    assert shown["identities"] == [
        {"connection": "email", "user_id": str(identity["sub"]).split("|")[1], "provider": "email", "isSocial": False}
    ]


def test_a_code_works_once(server: SandboxServer) -> None:
    browser = Browser(server)
    code_page = browser.ask_for_code(Pkce(), "grace@example.com")
    code = outbox_code(server, "grace@example.com")
    assert browser.enter_code(code_page, code).status_code == 302

    again = Browser(server).ask_for_code(Pkce(), "grace@example.com")
    reused = Browser(server).enter_code(again, code)  # the old code, though a new one was sent
    assert reused.status_code == 400
    assert "Wrong code" in reused.text


def test_three_wrong_codes_end_the_code_and_the_right_one_no_longer_works(server: SandboxServer) -> None:
    browser = Browser(server)
    code_page = browser.ask_for_code(Pkce(), "heidi@example.com")
    right = outbox_code(server, "heidi@example.com")
    wrong = "000000" if right != "000000" else "111111"

    answers = [browser.enter_code(code_page, wrong) for _ in range(3)]
    late = browser.enter_code(code_page, right)

    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert "no tries are left" in answers[2].text
    assert late.status_code == 400
    assert "expired or was already used" in late.text


def test_the_login_pages_email_me_a_code_button_leads_to_the_passwordless_page(server: SandboxServer) -> None:
    browser, pkce = Browser(server), Pkce()
    login = browser.login_page(pkce)
    assert "Email me a code</button>" in login.text

    page = browser.http.get(
        f"{server.base_url}/u/login/passwordless-email", params={"state": hidden_state(login)}, timeout=TIMEOUT
    )
    assert page.status_code == 200
    assert hidden_state(page) == hidden_state(login)


def test_another_sites_page_cannot_send_or_enter_a_code(server: SandboxServer) -> None:
    browser, pkce = Browser(server), Pkce()
    page = browser.connection_page(pkce, "email", "/u/login/passwordless-email")
    answer = browser.http.post(
        page.url,
        data={"state": hidden_state(page), "email": "ivan@example.com"},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 403
    outbox = requests.get(f"{server.base_url}/sandbox/outbox", params={"to": "ivan@example.com"}, timeout=TIMEOUT)
    assert outbox.json()["messages"] == []
