"""``client_credentials``: a Management API token, only for that audience, with exactly the scopes granted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    API_AUDIENCE,
    CHECK_ID,
    CHECK_SECRET,
    LIFETIME,
    M2M_ID,
    M2M_SECRET,
    SERVICE_SCOPES,
    TIMEOUT,
    token_for,
)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """Tokens that live LIFETIME seconds, so the API's reported lifetime is not the default."""
    with SandboxServer(token_lifetime_seconds=LIFETIME) as running:
        yield running


def test_client_credentials_with_a_wrong_secret_is_401_access_denied(server: SandboxServer) -> None:
    client = GetToken(server.domain, M2M_ID, client_secret="wrong", protocol="http", telemetry=False)
    with pytest.raises(Auth0Error) as raised:
        client.client_credentials(audience=server.management_audience)
    assert (raised.value.status_code, raised.value.error_code) == (401, "access_denied")


def test_client_credentials_only_for_the_management_api_audience(server: SandboxServer) -> None:
    client = GetToken(server.domain, M2M_ID, client_secret=M2M_SECRET, protocol="http", telemetry=False)
    for audience in (API_AUDIENCE, "https://elsewhere.example/api/v2/"):
        with pytest.raises(Auth0Error) as raised:
            client.client_credentials(audience=audience)
        assert (raised.value.status_code, raised.value.error_code) == (403, "access_denied")


def test_the_check_application_gets_exactly_the_three_read_scopes(server: SandboxServer) -> None:
    answer = token_for(server, CHECK_ID, CHECK_SECRET)
    assert answer["scope"] == "read:client_grants read:resource_servers read:roles"
    assert answer["expires_in"] == LIFETIME


def test_the_service_application_cannot_ask_for_the_check_scopes(server: SandboxServer) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_id": M2M_ID,
        "client_secret": M2M_SECRET,
        "audience": server.management_audience,
        "scope": "read:users read:client_grants",
    }
    answer = requests.post(f"{server.base_url}/oauth/token", json=fields, timeout=TIMEOUT)
    assert (answer.status_code, answer.json()["error"]) == (403, "access_denied")
    assert answer.json()["error_description"] == "Client has not been granted scopes: read:client_grants"
    assert token_for(server, M2M_ID, M2M_SECRET)["scope"] == " ".join(SERVICE_SCOPES)
