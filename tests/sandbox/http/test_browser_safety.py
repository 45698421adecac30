"""What a web page can make a browser send to the sandbox: a foreign Host (DNS rebinding) or a
"simple" cross-site POST (text/plain, form, no body). Both are refused and change nothing; the
Authentication API keeps JSON and form bodies, as Auth0 does."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from auth0.authentication import GetToken

from sandbox.server import SandboxServer

TIMEOUT = 5.0
PASSWORD = "correct horse battery"
NEW_PASSWORD = "another long passphrase"
M2M_ID, M2M_SECRET = "sandbox-m2m-client", "sandbox-m2m-client-secret-not-a-real-secret"
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture(autouse=True)
def buyer(server: SandboxServer) -> dict[str, Any]:
    """A fresh tenant with one buyer who has a password."""
    server.tenant.reset()
    server.stats.reset()
    answer = requests.post(
        f"{server.base_url}/sandbox/users", json={"email": "buyer@example.com", "password": PASSWORD}, timeout=TIMEOUT
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def post(server: SandboxServer, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{server.base_url}{path}", timeout=TIMEOUT, **kwargs)


def users(server: SandboxServer) -> list[str]:
    return [user["email"] for user in server.tenant.describe()["users"]]


def can_log_in(server: SandboxServer, password: str) -> bool:
    body = {
        "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
        "client_id": server.login_client_id,
        "client_secret": "sandbox-login-client-secret-not-a-real-secret",
        "username": "buyer@example.com",
        "password": password,
        "realm": "Username-Password-Authentication",
    }
    return post(server, "/oauth/token", json=body).status_code == 200


# --- Content-Type: what a page can send without a CORS preflight ----------------------------------


def test_a_text_plain_post_to_sandbox_token_is_refused_and_issues_no_token(server: SandboxServer) -> None:
    body = json.dumps({"email": "buyer@example.com"})

    answer = post(server, "/sandbox/token", data=body, headers={"Content-Type": "text/plain"})

    assert answer.status_code == 415
    assert answer.json() == {
        "statusCode": 415,
        "error": "Unsupported Media Type",
        "message": "Content-Type must be application/json",
    }
    assert "access_token" not in answer.text
    assert post(server, "/sandbox/token", data=body, headers=JSON_HEADERS).status_code == 200


def test_a_text_plain_set_password_is_refused_and_the_password_stays(server: SandboxServer) -> None:
    body = json.dumps({"email": "buyer@example.com", "password": NEW_PASSWORD})

    answer = post(server, "/sandbox/set-password", data=body, headers={"Content-Type": "text/plain;charset=UTF-8"})

    assert answer.status_code == 415
    assert can_log_in(server, PASSWORD)
    assert not can_log_in(server, NEW_PASSWORD)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}],
    ids=["no content type", "text/plain", "form"],
)
def test_a_reset_a_page_could_send_is_refused_and_forgets_nobody(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    answer = post(server, "/sandbox/reset", data=b"", headers=headers)

    assert answer.status_code == 415
    assert users(server) == ["buyer@example.com"]
    assert post(server, "/sandbox/reset", headers=JSON_HEADERS).status_code == 204
    assert users(server) == []


def test_a_form_post_to_seed_a_user_is_refused(server: SandboxServer) -> None:
    answer = post(server, "/sandbox/users", data={"email": "page@example.com", "password": PASSWORD})

    assert answer.status_code == 415
    assert users(server) == ["buyer@example.com"]


def test_a_management_api_body_must_be_declared_json_and_nothing_is_created_otherwise(
    server: SandboxServer,
) -> None:
    headers = {"Authorization": f"Bearer {server.management_token()}"}
    user = {"connection": "Username-Password-Authentication", "email": "x@example.com", "password": PASSWORD}
    body = json.dumps(user)

    refused = post(server, "/api/v2/users", data=body, headers={**headers, "Content-Type": "text/plain"})
    accepted = post(
        server, "/api/v2/users", data=body, headers={**headers, "Content-Type": "application/json; charset=utf-8"}
    )

    assert (refused.status_code, refused.json()["statusCode"]) == (415, 415)
    assert accepted.status_code == 201
    assert users(server) == ["buyer@example.com", "x@example.com"]


def test_the_authentication_api_takes_json_and_form_like_auth0_but_not_text_plain(server: SandboxServer) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_id": M2M_ID,
        "client_secret": M2M_SECRET,
        "audience": server.management_audience,
    }

    as_form = post(server, "/oauth/token", data=fields)
    as_json = post(server, "/oauth/token", json=fields)
    as_text = post(server, "/oauth/token", data=json.dumps(fields), headers={"Content-Type": "text/plain"})

    assert (as_form.status_code, as_json.status_code) == (200, 200)
    assert as_text.status_code == 400
    assert as_text.json() == {
        "error": "invalid_request",
        "error_description": "The body must be application/json or form-encoded",
    }


def test_get_token_from_auth0_python_still_gets_a_management_token(server: SandboxServer) -> None:
    client = GetToken(server.domain, M2M_ID, client_secret=M2M_SECRET, protocol="http", telemetry=False)
    assert client.client_credentials(audience=server.management_audience)["access_token"]


# --- Host: DNS rebinding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "shape"),
    [
        ("GET", "/sandbox/state", "management"),
        ("GET", "/.well-known/jwks.json", "oauth"),
        ("POST", "/oauth/token", "oauth"),
        ("GET", "/api/v2/users-by-email?email=buyer@example.com", "management"),
    ],
)
def test_a_foreign_host_is_refused_with_an_auth0_shaped_421(
    server: SandboxServer, method: str, path: str, shape: str
) -> None:
    token = server.management_token()
    headers = {"Host": f"rebound.attacker.example:{server.port}", "Authorization": f"Bearer {token}"}

    answer = requests.request(method, f"{server.base_url}{path}", headers=headers, json={}, timeout=TIMEOUT)

    assert answer.status_code == 421
    assert "rebound.attacker.example" not in answer.text, "the refused Host is never echoed"
    if shape == "management":
        assert answer.json()["statusCode"] == 421
        assert answer.json()["message"].startswith(f"This sandbox only answers requests for 127.0.0.1:{server.port}")
    else:
        assert answer.json()["error"] == "invalid_request"
    assert server.stats.snapshot()["requests"] == {}, "a refused request never reaches the tenant"


def test_a_rebound_reset_with_a_json_body_forgets_nobody(server: SandboxServer) -> None:
    headers = {"Host": f"rebound.attacker.example:{server.port}", **JSON_HEADERS}

    answer = post(server, "/sandbox/reset", data=b"{}", headers=headers)

    assert answer.status_code == 421
    assert users(server) == ["buyer@example.com"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_the_served_address_and_localhost_on_its_port_are_answered(server: SandboxServer, host: str) -> None:
    headers = {"Host": host.format(port=server.port)}
    answer = requests.get(f"{server.base_url}/.well-known/openid-configuration", headers=headers, timeout=TIMEOUT)
    assert answer.status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1:{other}", "127.0.0.1", "localhost"])
def test_the_right_name_on_another_port_is_refused(server: SandboxServer, host: str) -> None:
    headers = {"Host": host.format(other=server.port + 1)}
    answer = requests.get(f"{server.base_url}/sandbox/state", headers=headers, timeout=TIMEOUT)
    assert answer.status_code == 421


def test_a_request_without_a_host_header_is_refused(server: SandboxServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as connection:
        connection.sendall(b"GET /sandbox/state HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 421")
    assert json.loads(body)["statusCode"] == 421


def test_a_bodiless_management_api_post_is_taken_as_auth0_takes_it_and_a_bodiless_sandbox_post_is_not(
    server: SandboxServer,
) -> None:
    headers = {"Authorization": f"Bearer {server.management_token(scope='create:actions')}"}

    # No Action of that id: the route answered (404), the body check let it through.
    assert post(server, "/api/v2/actions/actions/act_missing/deploy", data=b"", headers=headers).status_code == 404
    assert post(server, "/sandbox/reset", data=b"", headers=headers).status_code == 415
    assert users(server) == ["buyer@example.com"]
