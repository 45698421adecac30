"""``POST /dbconnections/signup``: refused while the database connection's sign-ups are off (the default here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.server import SandboxServer
from tests.sandbox.support import CONNECTION, PASSWORD, TIMEOUT, api, fixture, login

SPA = "sandbox-spa-client"


@pytest.fixture(scope="module")
def open_signup() -> Iterator[SandboxServer]:
    """A tenant whose database connection lets anyone sign up: Auth0's own default."""
    with SandboxServer(port=0, state_path=None, disable_signup=False) as running:
        yield running


def sign_up(server: SandboxServer, email: str, password: str = PASSWORD) -> requests.Response:
    body = {"client_id": SPA, "email": email, "password": password, "connection": CONNECTION}
    return requests.post(f"{server.base_url}/dbconnections/signup", json=body, timeout=TIMEOUT)


def test_sign_up_is_refused_while_sign_ups_are_off_and_makes_no_user(server: SandboxServer) -> None:
    answer = sign_up(server, "squatter@example.com")

    assert answer.status_code == 400
    assert answer.json() == fixture("dbconnections_signup_disabled.json")
    assert api(server, "GET", "/api/v2/users-by-email", params={"email": "squatter@example.com"}).json() == []


def test_with_sign_ups_on_anyone_registers_an_unverified_user_with_their_own_password(
    open_signup: SandboxServer,
) -> None:
    answer = sign_up(open_signup, "Victim@Example.com")

    assert answer.status_code == 200
    assert set(answer.json()) == set(fixture("dbconnections_signup.json"))
    assert answer.json()["email"] == "victim@example.com"
    assert answer.json()["email_verified"] is False
    (user,) = api(open_signup, "GET", "/api/v2/users-by-email", params={"email": "victim@example.com"}).json()
    assert user["user_id"] == f"auth0|{answer.json()['_id']}"
    assert login(open_signup, "victim@example.com", PASSWORD)["access_token"]
    outbox = requests.get(
        f"{open_signup.base_url}/sandbox/outbox", params={"to": "victim@example.com"}, timeout=TIMEOUT
    )
    assert [message["kind"] for message in outbox.json()["messages"]] == ["verification_email"]


def test_signing_up_an_address_twice_is_user_exists(open_signup: SandboxServer) -> None:
    assert sign_up(open_signup, "twice@example.com").status_code == 200
    again = sign_up(open_signup, "twice@example.com", "another password 1")

    assert again.status_code == 400
    assert again.json() == fixture("dbconnections_signup_user_exists.json")


def test_a_weak_password_is_refused(open_signup: SandboxServer) -> None:
    answer = sign_up(open_signup, "weak@example.com", "short")
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_password")
