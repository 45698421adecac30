"""``POST /dbconnections/change_password``: Auth0's text, and a one-time ticket in the outbox for real users only."""

from __future__ import annotations

from auth0.authentication import Database

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    CONNECTION,
    FIXTURES,
    M2M_ID,
    PASSWORD,
    create_buyer,
    dev,
)


def test_change_password_answers_auth0s_text_and_puts_a_one_time_ticket_in_the_outbox(server: SandboxServer) -> None:
    create_buyer(server)
    text = Database(server.domain, M2M_ID, protocol="http", telemetry=False).change_password(
        email="buyer@example.com", connection=CONNECTION
    )
    assert text == (FIXTURES / "dbconnections_change_password.txt").read_text(encoding="utf-8").strip()
    (message,) = dev(server, "GET", "outbox", params={"to": "buyer@example.com"}).json()["messages"]
    assert message["kind"] == "password_reset"
    assert message["ticket_url"] == f"{server.base_url}/lo/reset?ticket={message['ticket']}"
    shown = dev(server, "GET", "set-password", params={"ticket": message["ticket"]}).json()
    assert (shown["email"], shown["set_password"]["json"]["ticket"]) == ("buyer@example.com", message["ticket"])
    first = dev(server, "POST", "set-password", json={"ticket": message["ticket"], "password": PASSWORD})
    again = dev(server, "POST", "set-password", json={"ticket": message["ticket"], "password": PASSWORD})
    assert first.status_code == 200
    assert first.json()["email_verified"] is True
    assert (again.status_code, again.json()["errorCode"]) == (400, "invalid_ticket")


def test_change_password_for_an_unknown_address_answers_the_same_and_sends_nothing(server: SandboxServer) -> None:
    text = Database(server.domain, M2M_ID, protocol="http", telemetry=False).change_password(
        email="nobody@example.com", connection=CONNECTION
    )
    assert text.startswith("We've just sent you an email")
    assert dev(server, "GET", "outbox").json()["messages"] == []
