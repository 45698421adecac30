"""``POST /login``: the password-realm grant through auth0-python, with stable answers."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from chalice.test import Client

from chalicelib import wiring
from tests.auth0_replay import BASE_URL, fixture
from tests.chalice_client import app_client
from tests.purchase_support import set_purchase_env

TOKEN_URL = f"{BASE_URL}/oauth/token"
JSON = {"Content-Type": "application/json"}
PASSWORD = "correct horse battery staple 9!"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    set_purchase_env(
        monkeypatch,
        AUTH0_LOGIN_CLIENT_ID="loginClientIdForTests",
        AUTH0_LOGIN_CLIENT_SECRET="login-client-secret-for-tests",
        AUTH0_AUDIENCE="https://courses.example.com/api",
    )
    wiring.clear_caches()
    with app_client() as test_client:
        yield test_client
    wiring.clear_caches()


def login(client: Client, body: Any, headers: dict[str, str] | None = None) -> Any:
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.http.post("/login", headers=JSON if headers is None else headers, body=payload)


@responses.activate
def test_a_correct_password_returns_the_access_token_and_forwards_the_caller_ip(client: Client) -> None:
    grant = responses.add(responses.POST, TOKEN_URL, json=fixture("oauth_token_password_realm.json"))

    response = login(client, {"username": "Customer@example.com", "password": PASSWORD})

    assert response.status_code == 200
    assert json.loads(response.body) == {
        "access_token": "fixture-user-access-token-not-a-real-credential",
        "token_type": "Bearer",
        "expires_in": 86400,
        "scope": "openid read:course:serverless-handbook",
    }
    sent = json.loads(grant.calls[0].request.body or b"{}")
    assert sent["grant_type"] == "http://auth0.com/oauth/grant-type/password-realm"
    assert sent["realm"] == "Username-Password-Authentication"
    assert sent["audience"] == "https://courses.example.com/api"
    assert sent["client_id"] == "loginClientIdForTests"
    assert sent["client_secret"] == "login-client-secret-for-tests"
    assert grant.calls[0].request.headers["auth0-forwarded-for"] == "127.0.0.1"


@responses.activate
def test_wrong_credentials_are_401_with_a_stable_error(client: Client) -> None:
    responses.add(responses.POST, TOKEN_URL, status=403, json=fixture("oauth_token_invalid_grant.json"))

    response = login(client, {"username": "customer@example.com", "password": "wrong"})

    assert response.status_code == 401
    assert json.loads(response.body) == {
        "error": "invalid_credentials",
        "error_description": "wrong username or password",
    }


@responses.activate
def test_auth0_throttling_is_passed_on_as_429(client: Client) -> None:
    responses.add(
        responses.POST,
        TOKEN_URL,
        status=429,
        json=fixture("oauth_token_too_many_attempts.json"),
        headers={"x-ratelimit-reset": "1893456000", "retry-after": "30"},
    )

    response = login(client, {"username": "customer@example.com", "password": "wrong"})

    assert response.status_code == 429
    assert json.loads(response.body)["error"] == "too_many_attempts"
    assert response.headers["Retry-After"] == "30"


@responses.activate
def test_an_auth0_outage_is_503(client: Client) -> None:
    responses.add(responses.POST, TOKEN_URL, status=503, json={"error": "temporarily_unavailable"})

    assert login(client, {"username": "customer@example.com", "password": PASSWORD}).status_code == 503


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"username": "customer@example.com"}, 400, id="no-password"),
        pytest.param({"password": PASSWORD}, 400, id="no-username"),
        pytest.param({"username": 5, "password": PASSWORD}, 400, id="username-not-text"),
        pytest.param("[1, 2]", 400, id="not-an-object"),
        pytest.param("{", 400, id="not-json"),
    ],
)
@responses.activate
def test_a_malformed_login_is_rejected_before_auth0_is_asked(client: Client, body: Any, status: int) -> None:
    response = login(client, body)

    assert response.status_code == status
    assert json.loads(response.body)["error"] == "invalid_request"
    assert len(responses.calls) == 0


@responses.activate
def test_a_form_body_is_415(client: Client) -> None:
    response = login(client, "username=a&password=b", headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 415
    assert len(responses.calls) == 0


def test_login_is_404_when_not_configured(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH0_LOGIN_CLIENT_ID")
    wiring.clear_caches()

    response = login(client, {"username": "customer@example.com", "password": PASSWORD})

    assert response.status_code == 404
    assert json.loads(response.body)["error"] == "login_disabled"


@responses.activate
def test_the_password_and_the_token_never_reach_the_logs(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    responses.add(responses.POST, TOKEN_URL, json=fixture("oauth_token_password_realm.json"))

    with caplog.at_level(logging.DEBUG):
        login(client, {"username": "customer@example.com", "password": PASSWORD})

    assert PASSWORD not in caplog.text
    assert "fixture-user-access-token" not in caplog.text


# --- hardening -----------------------------------------------------------------------------------


def test_a_huge_json_integer_is_400_not_a_crash(client: Client) -> None:
    response = login(client, '{"username": "a@example.com", "password": ' + "7" * 5000 + "}")

    assert response.status_code == 400
    assert json.loads(response.body)["error"] == "invalid_request"


def test_a_disabled_login_is_404_before_the_body_is_read(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH0_LOGIN_CLIENT_ID")
    wiring.clear_caches()

    for body in ('{"password": ' + "7" * 5000 + "}", "not json at all"):
        response = login(client, body)

        assert response.status_code == 404
        assert json.loads(response.body)["error"] == "login_disabled"


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        pytest.param(401, fixture("oauth_token_access_denied.json"), id="wrong-client-secret"),
        pytest.param(403, {"error": "access_denied", "error_description": "Service not found: x"}, id="unknown-api"),
        pytest.param(
            403,
            {"error": "unauthorized_client", "error_description": "Grant type not allowed for the client."},
            id="grant-not-enabled",
        ),
    ],
)
@responses.activate
def test_auth0_refusing_the_login_application_is_503_misconfigured_with_an_operator_line(
    client: Client, caplog: pytest.LogCaptureFixture, status: int, answer: dict[str, str]
) -> None:
    responses.add(responses.POST, TOKEN_URL, status=status, json=answer)

    with caplog.at_level(logging.ERROR, logger="gumroad_auth0"):
        response = login(client, {"username": "customer@example.com", "password": PASSWORD})

    assert response.status_code == 503
    assert json.loads(response.body)["error"] == "service_misconfigured"
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.login"]
    assert line["event"] == "login_misconfigured"
    assert "AUTH0_LOGIN_CLIENT_ID" in line["detail"]
    assert PASSWORD not in caplog.text


@responses.activate
def test_a_blocked_user_is_still_told_the_account_may_not_sign_in(client: Client) -> None:
    responses.add(
        responses.POST, TOKEN_URL, status=401, json={"error": "unauthorized", "error_description": "user is blocked"}
    )

    response = login(client, {"username": "customer@example.com", "password": PASSWORD})

    assert response.status_code == 401
    assert json.loads(response.body)["error"] == "access_denied"


@responses.activate
def test_login_enabled_without_a_client_secret_fails_loudly_and_asks_nothing_of_auth0(
    client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTH0_LOGIN_CLIENT_SECRET")
    wiring.clear_caches()

    with caplog.at_level(logging.ERROR, logger="gumroad_auth0"):
        response = login(client, {"username": "customer@example.com", "password": PASSWORD})

    assert response.status_code == 503
    assert json.loads(response.body)["error"] == "service_misconfigured"
    assert "AUTH0_LOGIN_CLIENT_SECRET" in caplog.text
    assert len(responses.calls) == 0


def test_another_method_on_login_is_405_in_the_service_shape(client: Client) -> None:
    response = client.http.get("/login")

    assert response.status_code == 405
    assert json.loads(response.body)["error"] == "method_not_allowed"
