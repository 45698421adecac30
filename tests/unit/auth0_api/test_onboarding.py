"""PasswordResetOnboarding against the recorded ``/dbconnections/change_password`` answer (``responses``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import requests
import responses

from chalicelib.auth0_api.onboarding import PasswordResetOnboarding
from chalicelib.auth0_api.pacing import RetryPolicy
from chalicelib.config.purchase_settings import Auth0Endpoint
from tests.auth0_replay import BASE_URL, CONNECTION
from tests.purchase_support import mock_change_password

CHANGE_PASSWORD_URL = f"{BASE_URL}/dbconnections/change_password"
BUYER = "customer@example.com"


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as requests_mock:
        yield requests_mock


def onboarding() -> PasswordResetOnboarding:
    return PasswordResetOnboarding(
        endpoint=Auth0Endpoint(BASE_URL),
        client_id=lambda: "onboardingClientIdForTests",
        connection=CONNECTION,
        policy=RetryPolicy(),
    )


def test_auth0_accepting_the_request_is_true_and_names_the_buyer_connection_and_client(
    mock: responses.RequestsMock,
) -> None:
    endpoint = mock_change_password(mock)

    assert onboarding().welcome(BUYER) is True

    assert endpoint.call_count == 1
    sent = json.loads(endpoint.calls[0].request.body or b"{}")
    assert sent["email"] == BUYER
    assert sent["connection"] == CONNECTION
    assert sent["client_id"] == "onboardingClientIdForTests"
    assert "password" not in sent, "the link lets the buyer choose one; the service never sends one"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(400, {"error": "invalid_request", "error_description": "connection is required"}, id="400"),
        pytest.param(429, {"error": "too_many_requests", "error_description": "Too many requests"}, id="429"),
        pytest.param(500, {"error": "server_error", "error_description": "internal"}, id="500"),
    ],
)
def test_auth0_refusing_the_request_is_false_with_a_log_line_that_never_shows_the_address(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture, status: int, body: dict[str, str]
) -> None:
    mock.add(responses.POST, CHANGE_PASSWORD_URL, status=status, json=body)

    with caplog.at_level(logging.WARNING, logger="gumroad_auth0"):
        assert onboarding().welcome(BUYER) is False

    assert "onboarding_refused" in caplog.text
    assert str(status) in caplog.text
    assert BUYER not in caplog.text
    assert "customer" not in caplog.text


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("connection refused"), requests.Timeout("read timed out")],
    ids=["unreachable", "timeout"],
)
def test_a_network_failure_is_false_with_a_log_line_that_never_shows_the_address(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture, failure: Exception
) -> None:
    mock.add(responses.POST, CHANGE_PASSWORD_URL, body=failure)

    with caplog.at_level(logging.WARNING, logger="gumroad_auth0"):
        assert onboarding().welcome(BUYER) is False

    assert "onboarding_failed" in caplog.text
    assert BUYER not in caplog.text
