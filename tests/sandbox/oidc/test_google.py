"""The Google stand-in: ``/authorize?connection=google-oauth2``, the login page's button, and the user it makes."""

from __future__ import annotations

import re

import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import TIMEOUT, Browser, Pkce, claims_of, code_from, exchange, hidden_state
from tests.sandbox.support import api, fixture


def test_authorize_with_the_google_connection_shows_a_form_with_email_the_verified_box_and_a_submit(
    server: SandboxServer,
) -> None:
    page = Browser(server).connection_page(Pkce(), "google-oauth2", "/stand-in/google-oauth2")

    assert page.status_code == 200
    assert re.search(r'<input id="email" name="email" type="email"', page.text)
    assert re.search(r'<input id="email_verified" name="email_verified" type="checkbox" value="true"', page.text)
    assert '<button type="submit">Continue</button>' in page.text
    assert page.headers["X-Frame-Options"] == "DENY"


def test_a_verified_google_sign_in_makes_a_google_user_with_auth0s_identities_shape(server: SandboxServer) -> None:
    pkce = Pkce()
    answer = Browser(server).google(pkce, "Alice@Example.com", verified=True)
    tokens = exchange(server, code_from(answer, pkce), pkce).json()
    identity = claims_of(tokens["id_token"])

    user_id = str(identity["sub"])
    assert re.fullmatch(r"google-oauth2\|\d{21}", user_id)
    assert (identity["email"], identity["email_verified"]) == ("Alice@Example.com", True)
    shown = api(server, "GET", f"/api/v2/users/{user_id}").json()
    recorded = fixture("user_identities_linked.json")[1]  # Google's identity, as Auth0 shows it
    assert shown["identities"] == [
        {key: value for key, value in recorded.items() if key != "profileData"} | {"user_id": user_id.split("|")[1]}
    ]
    assert shown["email"] == "Alice@Example.com"  # Google keeps its casing: users-by-email is case-sensitive
    assert api(server, "GET", "/api/v2/users-by-email", params={"email": "alice@example.com"}).json() == []


def test_an_unticked_box_makes_an_unverified_google_user(server: SandboxServer) -> None:
    pkce = Pkce()
    answer = Browser(server).google(pkce, "squatter-target@example.com", verified=False)
    tokens = exchange(server, code_from(answer, pkce), pkce).json()

    assert claims_of(tokens["id_token"])["email_verified"] is False


def test_the_same_address_is_the_same_google_account_and_its_verified_flag_follows_the_last_sign_in(
    server: SandboxServer,
) -> None:
    first, second = Pkce(), Pkce()
    unverified = Browser(server).google(first, "bob@example.com", verified=False)
    verified = Browser(server).google(second, "bob@example.com", verified=True)
    one = claims_of(exchange(server, code_from(unverified, first), first).json()["id_token"])
    two = claims_of(exchange(server, code_from(verified, second), second).json()["id_token"])

    assert one["sub"] == two["sub"]
    assert api(server, "GET", f"/api/v2/users/{two['sub']}").json()["email_verified"] is True


def test_the_login_pages_continue_with_google_button_leads_to_the_stand_in_in_the_same_sign_in(
    server: SandboxServer,
) -> None:
    browser, pkce = Browser(server), Pkce()
    login = browser.login_page(pkce)
    assert "Continue with Google</button>" in login.text
    transaction = hidden_state(login)

    page = browser.http.get(f"{server.base_url}/stand-in/google-oauth2", params={"state": transaction}, timeout=TIMEOUT)
    answer = browser.http.post(
        page.url,
        data={"state": transaction, "email": "carol@example.com", "email_verified": "true"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert page.status_code == 200
    assert answer.status_code == 302
    code_from(answer, pkce)  # back to the application with its own state
    assert browser.session_cookie()


def test_another_sites_page_cannot_post_the_google_form(server: SandboxServer) -> None:
    browser, pkce = Browser(server), Pkce()
    page = browser.connection_page(pkce, "google-oauth2", "/stand-in/google-oauth2")
    answer = browser.http.post(
        page.url,
        data={"state": hidden_state(page), "email": "dave@example.com", "email_verified": "true"},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 403
    assert api(server, "GET", "/api/v2/users-by-email", params={"email": "dave@example.com"}).json() == []


def test_a_google_page_for_an_unknown_sign_in_is_an_error_page_not_a_form(server: SandboxServer) -> None:
    answer = requests.get(f"{server.base_url}/stand-in/google-oauth2", params={"state": "nope"}, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert "Sign-in expired" in answer.text


def test_an_unknown_connection_goes_back_to_the_application_as_invalid_request(server: SandboxServer) -> None:
    answer = Browser(server).authorize(Pkce(), connection="facebook")
    assert answer.status_code == 302
    assert "error=invalid_request" in answer.headers["Location"]
