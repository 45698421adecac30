"""Service credentials from Secrets Manager (through moto): a TTL, forced refreshes, failures and redaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from chalicelib.aws.secrets import (
    MIN_SECONDS_BETWEEN_FORCED_REFRESHES,
    RETRY_AFTER_FAILED_REFRESH_SECONDS,
    SecretsManagerCredentials,
)
from chalicelib.config.purchase_settings import EnvironmentCredentials
from chalicelib.credentials import ServiceCredentials, StaticCredentials
from chalicelib.errors import ConfigurationError, UpstreamUnavailable

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

SECRET_NAME = "gumroad-auth0/prod"
TTL = 300.0
CLIENT_ID = "pQ7xVb2kLm9NcR4tYw1ZsD3fGh6JkE8a"
# Distinctive values: none of them may ever appear in an error message or a log line.
CLIENT_SECRET = "CLIENT-SECRET-7Yh2-do-not-leak"
PING_SECRET = "PING-SECRET-Qw9e-do-not-leak"
PREVIOUS_PING_SECRET = "PING-SECRET-OLD-3xKz-do-not-leak"
LEAK_MARKERS = ("do-not-leak", "7Yh2", "Qw9e", "3xKz")

GOOD_SECRET = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "gumroad_ping_secret": PING_SECRET}


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingClients:
    """Builds real moto-backed clients and counts their get_secret_value calls.

    ``failure`` makes the next calls raise instead of reaching Secrets Manager.
    """

    def __init__(self) -> None:
        self.built = 0
        self.reads = 0
        self.failure: Exception | None = None

    def __call__(self) -> SecretsManagerClient:
        client = boto3.client("secretsmanager")
        real = client.get_secret_value
        self.built += 1

        def get_secret_value(**kwargs: Any) -> Any:
            self.reads += 1
            if self.failure is not None:
                raise self.failure
            return real(**kwargs)

        setattr(client, "get_secret_value", get_secret_value)  # noqa: B010 - wrap the bound method
        return client


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretsManagerClient]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager")


@pytest.fixture
def clients() -> CountingClients:
    return CountingClients()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def store(aws: SecretsManagerClient, document: Any) -> None:
    aws.create_secret(Name=SECRET_NAME, SecretString=document if isinstance(document, str) else json.dumps(document))


def source(clients: CountingClients, clock: FakeClock, secret_id: str = SECRET_NAME) -> SecretsManagerCredentials:
    return SecretsManagerCredentials(client_factory=clients, secret_id=secret_id, ttl_seconds=TTL, clock=clock)


def assert_no_secret_in(text: str) -> None:
    for marker in LEAK_MARKERS:
        assert marker not in text


def throttled() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
        "GetSecretValue",
    )


# --- reading and caching ------------------------------------------------------------------------


def test_the_json_secret_is_read_into_service_credentials(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)

    credentials = source(clients, clock).get()

    assert credentials == ServiceCredentials(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, gumroad_ping_secrets=(PING_SECRET,)
    )


def test_the_secret_is_found_by_its_arn_too(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    arn = aws.create_secret(Name=SECRET_NAME, SecretString=json.dumps(GOOD_SECRET))["ARN"]

    assert source(clients, clock, secret_id=arn).get().client_id == CLIENT_ID


def test_nothing_is_read_until_credentials_are_needed(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)

    credentials = source(clients, clock)

    assert (clients.built, clients.reads) == (0, 0)
    credentials.get()
    assert (clients.built, clients.reads) == (1, 1)


def test_the_secret_is_read_once_per_ttl(aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock) -> None:
    store(aws, GOOD_SECRET)
    credentials = source(clients, clock)

    for _ in range(5):
        credentials.get()
    clock.now += TTL - 0.001
    credentials.get()

    assert clients.reads == 1
    assert clients.built == 1


def test_the_secret_is_read_again_once_the_ttl_has_passed(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)
    credentials = source(clients, clock)
    credentials.get()
    aws.put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps({**GOOD_SECRET, "client_id": "rotated"}))

    assert credentials.get().client_id == CLIENT_ID
    clock.now += TTL
    assert credentials.get().client_id == "rotated"
    credentials.get()

    assert clients.reads == 2
    assert clients.built == 1


def test_invalidate_forces_one_re_read(aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock) -> None:
    store(aws, GOOD_SECRET)
    credentials = source(clients, clock)
    credentials.get()
    aws.put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps({**GOOD_SECRET, "client_id": "rotated"}))

    credentials.invalidate()

    assert credentials.get().client_id == "rotated"
    credentials.get()
    assert clients.reads == 2


def test_invalidate_forces_at_most_one_re_read_per_interval(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)
    credentials = source(clients, clock)
    credentials.get()

    credentials.invalidate()
    credentials.get()
    clock.now += MIN_SECONDS_BETWEEN_FORCED_REFRESHES - 1
    credentials.invalidate()
    credentials.get()
    assert clients.reads == 2

    clock.now += 1
    credentials.invalidate()
    credentials.get()
    assert clients.reads == 3


def test_a_previous_ping_secret_is_accepted_as_a_second_secret(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, {**GOOD_SECRET, "gumroad_ping_secret_previous": PREVIOUS_PING_SECRET})

    assert source(clients, clock).get().gumroad_ping_secrets == (PING_SECRET, PREVIOUS_PING_SECRET)


# --- a bad secret -------------------------------------------------------------------------------


def _malformed_json(aws: SecretsManagerClient) -> None:
    store(aws, json.dumps(GOOD_SECRET)[:-2])


def _not_an_object(aws: SecretsManagerClient) -> None:
    store(aws, json.dumps([CLIENT_SECRET, PING_SECRET]))


def _missing_ping_secret(aws: SecretsManagerClient) -> None:
    store(aws, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})


def _blank_client_secret(aws: SecretsManagerClient) -> None:
    store(aws, {**GOOD_SECRET, "client_secret": "  "})


def _non_text_client_id(aws: SecretsManagerClient) -> None:
    store(aws, {**GOOD_SECRET, "client_id": 12345})


def _binary_secret(aws: SecretsManagerClient) -> None:
    aws.create_secret(Name=SECRET_NAME, SecretBinary=json.dumps(GOOD_SECRET).encode())


def _not_found(aws: SecretsManagerClient) -> None:
    store(aws, GOOD_SECRET)
    aws.delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (_malformed_json, "must be a JSON object with client_id, client_secret, gumroad_ping_secret"),
        (_not_an_object, "must be a JSON object with client_id, client_secret, gumroad_ping_secret"),
        (_missing_ping_secret, "the secret named by AUTH0_SECRET_ID lacks gumroad_ping_secret"),
        (_blank_client_secret, "the secret named by AUTH0_SECRET_ID lacks client_secret"),
        (_non_text_client_id, "the secret named by AUTH0_SECRET_ID lacks client_id"),
        (_binary_secret, "must be a JSON object with client_id, client_secret, gumroad_ping_secret"),
        (_not_found, "cannot be read (ResourceNotFoundException)"),
    ],
    ids=lambda value: value.__name__.lstrip("_") if callable(value) else "",
)
def test_a_bad_secret_is_a_configuration_error_that_never_shows_its_values(
    aws: SecretsManagerClient,
    clients: CountingClients,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    prepare: Any,
    expected: str,
) -> None:
    prepare(aws)
    # Every level of the service's own loggers (botocore's debug output is not the service's).
    caplog.set_level(logging.DEBUG, logger="gumroad_auth0")

    with pytest.raises(ConfigurationError) as caught:
        source(clients, clock).get()

    assert expected in str(caught.value)
    assert_no_secret_in(str(caught.value))
    assert_no_secret_in(repr(caught.value))
    assert_no_secret_in(caplog.text)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize(
    "prepare", [_malformed_json, _missing_ping_secret, _binary_secret, _not_found], ids=lambda f: f.__name__
)
def test_a_bad_secret_is_logged_as_a_clear_line(
    aws: SecretsManagerClient,
    clients: CountingClients,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    prepare: Any,
) -> None:
    prepare(aws)
    caplog.set_level(logging.ERROR, logger="gumroad_auth0.credentials")

    with pytest.raises(ConfigurationError):
        source(clients, clock).get()

    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "gumroad_auth0.credentials"]
    assert len(lines) == 1
    assert lines[0]["event"].startswith("secret_")
    assert lines[0]["level"] == "error"


# --- transient failures -------------------------------------------------------------------------


def test_throttling_with_nothing_cached_is_upstream_unavailable(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)
    clients.failure = throttled()

    with pytest.raises(UpstreamUnavailable, match="ThrottlingException"):
        source(clients, clock).get()


def test_an_unreachable_secrets_manager_with_nothing_cached_is_upstream_unavailable(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)
    clients.failure = EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com")

    with pytest.raises(UpstreamUnavailable, match="unreachable"):
        source(clients, clock).get()


def test_throttling_after_the_ttl_keeps_the_last_good_value(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store(aws, GOOD_SECRET)
    credentials = source(clients, clock)
    good = credentials.get()
    clock.now += TTL + 1
    clients.failure = throttled()
    caplog.set_level(logging.WARNING, logger="gumroad_auth0.credentials")

    assert credentials.get() == good
    assert clients.reads == 2
    assert '"event":"secret_refresh_failed","kept_last_good":true' in caplog.text
    assert_no_secret_in(caplog.text)


def test_after_a_failed_refresh_the_next_attempt_waits_instead_of_hammering(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)
    credentials = source(clients, clock)
    good = credentials.get()
    clock.now += TTL + 1
    clients.failure = throttled()
    credentials.get()

    for _ in range(5):
        assert credentials.get() == good
    assert clients.reads == 2, "the pings right after a failed refresh reuse the last good value"
    clock.now += RETRY_AFTER_FAILED_REFRESH_SECONDS + 1
    credentials.get()
    assert clients.reads == 3


def test_the_secret_is_read_again_once_throttling_ends(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)
    clients.failure = throttled()
    credentials = source(clients, clock)
    with pytest.raises(UpstreamUnavailable):
        credentials.get()

    clients.failure = None

    assert credentials.get().client_id == CLIENT_ID


def test_a_refused_read_is_not_retried_as_transient(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, GOOD_SECRET)
    clients.failure = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
        "GetSecretValue",
    )

    with pytest.raises(ConfigurationError, match="AccessDeniedException"):
        source(clients, clock).get()


# --- redaction ---------------------------------------------------------------------------------------------


def test_the_repr_of_credentials_never_shows_the_secrets(
    aws: SecretsManagerClient, clients: CountingClients, clock: FakeClock
) -> None:
    store(aws, {**GOOD_SECRET, "gumroad_ping_secret_previous": PREVIOUS_PING_SECRET})
    from_aws = source(clients, clock)
    credentials = from_aws.get()
    static = StaticCredentials(EnvironmentCredentials(CLIENT_ID, CLIENT_SECRET, PING_SECRET))

    for text in (repr(credentials), str(credentials), repr(from_aws), repr(static), repr(static.get())):
        assert_no_secret_in(text)
    assert "redacted" in repr(credentials)
