"""ManagementToken against the recorded ``/oauth/token`` answers (``responses``): caching, refresh, rejection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

import pytest
import requests
import responses

from chalicelib.auth0_api.management_token import REFRESH_MARGIN_SECONDS, ManagementToken
from chalicelib.auth0_api.pacing import RetryPolicy
from chalicelib.config.purchase_settings import Auth0Endpoint
from chalicelib.credentials import ServiceCredentials
from chalicelib.errors import UpstreamRejected, UpstreamUnavailable
from tests.auth0_replay import BASE_URL, fixture
from tests.purchase_support import CLIENT_SECRET, PING_SECRET

TOKEN_URL = f"{BASE_URL}/oauth/token"
TOKEN = "fixture-m2m-access-token-not-a-real-credential"
LIFETIME = 86400.0  # expires_in of the recorded answer


@dataclass
class Secrets:
    """A CredentialsSource that counts its reads and invalidations; ``rotated`` is what a re-read finds."""

    secret: str = CLIENT_SECRET
    rotated: str | None = None
    reads: int = 0
    invalidations: int = 0

    def get(self) -> ServiceCredentials:
        self.reads += 1
        return ServiceCredentials(
            client_id="m2mClientIdForTests", client_secret=self.secret, gumroad_ping_secrets=(PING_SECRET,)
        )

    def invalidate(self) -> None:
        self.invalidations += 1
        if self.rotated is not None:
            self.secret = self.rotated


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as requests_mock:
        yield requests_mock


def management_token(secrets: Secrets, clock: Clock | None = None) -> ManagementToken:
    return ManagementToken(
        endpoint=Auth0Endpoint(BASE_URL), credentials=secrets, policy=RetryPolicy(), clock=clock or Clock()
    )


def granted(mock: responses.RequestsMock) -> responses.BaseResponse:
    return mock.add(responses.POST, TOKEN_URL, json=fixture("oauth_token_client_credentials.json"))


def sent_form(call: responses.Call) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    try:
        return {key: str(value) for key, value in json.loads(text).items()}
    except ValueError:
        return {key: values[0] for key, values in parse_qs(text).items()}


def test_the_token_is_fetched_with_the_client_credentials_grant_for_the_management_api(
    mock: responses.RequestsMock,
) -> None:
    endpoint = granted(mock)

    assert management_token(Secrets())() == TOKEN

    sent = sent_form(endpoint.calls[0])
    assert sent["grant_type"] == "client_credentials"
    assert sent["client_id"] == "m2mClientIdForTests"
    assert sent["client_secret"] == CLIENT_SECRET
    assert sent["audience"] == f"{BASE_URL}/api/v2/"


def test_the_token_is_cached_until_ten_minutes_before_it_expires(mock: responses.RequestsMock) -> None:
    endpoint = granted(mock)
    clock, secrets = Clock(), Secrets()
    token = management_token(secrets, clock)

    token()
    clock.now += LIFETIME - REFRESH_MARGIN_SECONDS - 1
    token()
    assert endpoint.call_count == 1

    clock.now += 1
    token()
    assert endpoint.call_count == 2
    assert REFRESH_MARGIN_SECONDS == 600.0


def test_invalidate_makes_the_next_call_fetch_a_new_token(mock: responses.RequestsMock) -> None:
    endpoint = granted(mock)
    token = management_token(Secrets())

    token()
    token.invalidate()
    token()

    assert endpoint.call_count == 2


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        pytest.param(401, "oauth_token_access_denied.json", id="401-access-denied"),
        pytest.param(403, "oauth_token_invalid_grant.json", id="403-invalid-grant"),
    ],
)
def test_rejected_credentials_are_read_again_once_and_a_rotated_secret_is_used(
    mock: responses.RequestsMock, status: int, answer: str
) -> None:
    mock.add(responses.POST, TOKEN_URL, status=status, json=fixture(answer))
    endpoint = granted(mock)
    secrets = Secrets(rotated="m2m-client-secret-after-rotation-9Jt4")

    assert management_token(secrets)() == TOKEN

    assert secrets.invalidations == 1
    assert mock.calls[0].request.url == TOKEN_URL
    assert sent_form(mock.calls[0])["client_secret"] == CLIENT_SECRET
    assert endpoint.call_count == 1
    assert sent_form(endpoint.calls[0])["client_secret"] == "m2m-client-secret-after-rotation-9Jt4"


def test_credentials_still_rejected_after_the_re_read_are_upstream_rejected_without_the_secret(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = mock.add(responses.POST, TOKEN_URL, status=401, json=fixture("oauth_token_access_denied.json"))
    secrets = Secrets()

    with pytest.raises(UpstreamRejected, match="M2M credentials") as raised:
        management_token(secrets)()

    assert endpoint.call_count == 2, "one fetch, one re-read of the secret, no more"
    assert secrets.invalidations == 1
    assert CLIENT_SECRET not in str(raised.value)
    assert CLIENT_SECRET not in caplog.text
    assert "m2m_credentials_rejected" in caplog.text


def test_throttling_by_the_token_endpoint_is_upstream_unavailable_and_keeps_the_secret(
    mock: responses.RequestsMock,
) -> None:
    mock.add(
        responses.POST,
        TOKEN_URL,
        status=429,
        json=fixture("oauth_token_too_many_attempts.json"),
        headers={"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1893456000"},
    )
    secrets = Secrets()

    with pytest.raises(UpstreamUnavailable, match="rate limiting"):
        management_token(secrets)()

    assert secrets.invalidations == 0, "throttling says nothing about the secret"


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_of_the_token_endpoint_is_upstream_unavailable(
    mock: responses.RequestsMock, status: int
) -> None:
    mock.add(responses.POST, TOKEN_URL, status=status, json={"error": "server_error", "error_description": "oops"})

    with pytest.raises(UpstreamUnavailable, match=str(status)):
        management_token(Secrets())()


def test_an_unreachable_token_endpoint_is_upstream_unavailable(mock: responses.RequestsMock) -> None:
    mock.add(responses.POST, TOKEN_URL, body=requests.ConnectionError("connection refused"))

    with pytest.raises(UpstreamUnavailable) as unreachable:
        management_token(Secrets())()

    assert str(unreachable.value) == f"Auth0's token endpoint at {BASE_URL} is unreachable (ConnectionError)"


def test_an_answer_without_an_access_token_is_upstream_unavailable(mock: responses.RequestsMock) -> None:
    answer = fixture("oauth_token_client_credentials.json")
    del answer["access_token"]
    mock.add(responses.POST, TOKEN_URL, json=answer)

    with pytest.raises(UpstreamUnavailable, match="without an access token"):
        management_token(Secrets())()
