"""A tenant without the Google or the e-mail connection (a bare tenant before `ops tenant apply` makes them, or a
creator who never enabled them): the login page offers neither, and their pages refuse, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.server import SandboxServer
from sandbox.tenant.connections import GOOGLE, PASSWORDLESS_EMAIL
from tests.sandbox.browser import TIMEOUT, Browser, Pkce, hidden_state


@pytest.fixture
def database_only() -> Iterator[SandboxServer]:
    sandbox = SandboxServer(port=0, state_path=None)
    for name in (GOOGLE, PASSWORDLESS_EMAIL):
        del sandbox.tenant.connections[name]
    with sandbox:
        yield sandbox


def test_the_login_page_offers_only_the_ways_the_tenant_has(
    server: SandboxServer, database_only: SandboxServer
) -> None:
    every = Browser(server).login_page(Pkce()).text
    only_password = Browser(database_only).login_page(Pkce()).text

    assert "Continue with Google" in every
    assert "Email me a code" in every
    assert "Continue with Google" not in only_password
    assert "Email me a code" not in only_password
    assert 'name="password"' in only_password


@pytest.mark.parametrize(
    ("connection", "path"), [(GOOGLE, "/stand-in/google-oauth2"), ("email", "/u/login/passwordless-email")]
)
def test_a_missing_connections_page_refuses_with_a_page_that_says_so(
    database_only: SandboxServer, connection: str, path: str
) -> None:
    browser = Browser(database_only)
    page = browser.login_page(Pkce())
    transaction = hidden_state(page)

    shown = browser.http.get(f"{database_only.base_url}{path}", params={"state": transaction}, timeout=TIMEOUT)
    posted = browser.http.post(
        f"{database_only.base_url}{path}",
        data={"state": transaction, "email": "mallory@example.com", "email_verified": "true"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    assert shown.status_code == 400
    assert f"This tenant has no {connection} connection." in shown.text
    assert posted.status_code in (400, 401)
    assert "Connection does not exist" in posted.text
    assert "Location" not in posted.headers
    assert database_only.tenant.describe()["users"] == []
    assert database_only.tenant.outbox.messages == []


def test_a_code_for_a_missing_email_connection_is_refused_and_signs_nobody_in(database_only: SandboxServer) -> None:
    browser = Browser(database_only)
    transaction = hidden_state(browser.login_page(Pkce()))
    code, _ = database_only.tenant.codes.issue("mallory@example.com")  # a right code, however it came to be

    entered = browser.http.post(
        f"{database_only.base_url}/u/login/passwordless-email-challenge",
        data={"state": transaction, "email": "mallory@example.com", "code": code},
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    assert entered.status_code in (400, 401)
    assert "Location" not in entered.headers
    assert database_only.tenant.describe()["users"] == []


def test_seeding_a_user_in_a_missing_connection_is_a_400(database_only: SandboxServer) -> None:
    answer = requests.post(
        f"{database_only.base_url}/sandbox/users",
        json={"email": "social@example.com", "connection": GOOGLE},
        timeout=TIMEOUT,
    )

    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "inexistent_connection"
    assert database_only.tenant.describe()["users"] == []
