"""The HTTP layer: unknown paths, wrong methods and broken HTTP all get Auth0-shaped JSON."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from sandbox.defaults import DEFAULT_LOGIN_CLIENT_ID, DEFAULT_LOGIN_CLIENT_SECRET, PASSWORD_GRANT
from sandbox.server import SandboxServer
from tests.sandbox.browser import PASSWORD, seed_buyer
from tests.sandbox.support import (
    CONNECTION,
    TIMEOUT,
    api,
)
from tests.simultaneous import all_at_once, post_form

SIMULTANEOUS = 40


def test_unknown_paths_wrong_methods_and_broken_http_get_json_errors(server: SandboxServer) -> None:
    unknown = requests.get(f"{server.base_url}/nope", timeout=TIMEOUT)
    wrong_method = api(server, "PUT", "/api/v2/users")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"statusCode": 404, "error": "Not Found", "message": "Not Found"},
    )
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    for raw in [
        b"GET /nope extra HTTP/1.1\r\n\r\n",
        b"POST /api/v2/users HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ]:
        status, body = raw_exchange(server, raw)
        assert status in (400, 411, 413)
        assert json.loads(body)["statusCode"] == status


def raw_exchange(server: SandboxServer, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_a_header_with_a_line_break_is_never_sent_even_when_a_check_upstream_lets_it_through(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The logout's allow-list broken on purpose: the HTTP layer is the last line, and must hold alone.
    monkeypatch.setattr("sandbox.oidc.logout.url_allowed", lambda allowed, url: True)
    answer = requests.get(
        f"{server.base_url}/v2/logout",
        params={"returnTo": "http://127.0.0.1:3000\r\nSet-Cookie: auth0=planted"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400
    assert answer.json()["statusCode"] == 400
    assert "Location" not in answer.headers
    assert "planted" not in str(answer.headers)
    assert "header 'Location' held CR, LF or NUL" in caplog.text
    assert requests.get(f"{server.base_url}/v2/logout", allow_redirects=False, timeout=TIMEOUT).status_code == 200


def test_forty_simultaneous_connections_to_the_password_grant_are_all_answered(server: SandboxServer) -> None:
    # Each its own connection, all at once: a listen backlog of 5 reset most of them before they were accepted.
    seed_buyer(server)
    form = {
        "grant_type": PASSWORD_GRANT,
        "client_id": DEFAULT_LOGIN_CLIENT_ID,
        "client_secret": DEFAULT_LOGIN_CLIENT_SECRET,
        "username": "buyer@example.com",
        "password": PASSWORD,
        "realm": CONNECTION,
    }
    answers, _ = all_at_once(SIMULTANEOUS, lambda _: post_form(server.port, "/oauth/token", form))
    assert [answer.failure for answer in answers if answer.failure] == []
    assert [answer.status for answer in answers] == [200] * SIMULTANEOUS
    print(f"\n{SIMULTANEOUS} simultaneous password-realm grants: {len(answers)} answered 200")
