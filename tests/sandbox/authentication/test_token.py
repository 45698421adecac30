"""``POST /oauth/token``: the recorded answer and refusal, and a grant the application is not allowed."""

from __future__ import annotations

import pytest
import requests
from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    API_AUDIENCE,
    CONNECTION,
    M2M_ID,
    M2M_SECRET,
    PASSWORD,
    TIMEOUT,
    fixture,
)


def test_the_token_endpoint_answers_with_the_recorded_keys_and_the_recorded_refusal(server: SandboxServer) -> None:
    url = f"{server.base_url}/oauth/token"
    body = {"grant_type": "client_credentials", "client_id": M2M_ID, "audience": server.management_audience}
    granted = requests.post(url, json={**body, "client_secret": M2M_SECRET}, timeout=TIMEOUT)
    refused = requests.post(url, data={**body, "client_secret": "wrong"}, timeout=TIMEOUT)
    recorded = fixture("oauth_token_client_credentials.json")
    assert {key: type(value) for key, value in granted.json().items()} == {
        key: type(value) for key, value in recorded.items()
    }
    assert granted.json()["scope"] == recorded["scope"]
    assert granted.json()["expires_in"] == 86400
    assert (refused.status_code, refused.json()) == (401, fixture("oauth_token_access_denied.json"))


def test_the_m2m_client_may_not_use_the_password_grant(server: SandboxServer) -> None:
    client = GetToken(server.domain, M2M_ID, client_secret=M2M_SECRET, protocol="http", telemetry=False)
    with pytest.raises(Auth0Error) as raised:
        client.login(username="a@example.com", password=PASSWORD, realm=CONNECTION, audience=API_AUDIENCE)
    assert (raised.value.status_code, raised.value.error_code) == (403, "unauthorized_client")
