"""Service credentials wherever they come from: the secret document's parsing and the environment's static values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.config.purchase_settings import EnvironmentCredentials
from chalicelib.credentials import (
    ServiceCredentials,
    StaticCredentials,
    parse_secret,
)
from chalicelib.errors import ConfigurationError

CLIENT_ID = "pQ7xVb2kLm9NcR4tYw1ZsD3fGh6JkE8a"
# Distinctive values: none of them may ever appear in an error message or a log line.
CLIENT_SECRET = "CLIENT-SECRET-7Yh2-do-not-leak"
PING_SECRET = "PING-SECRET-Qw9e-do-not-leak"
PREVIOUS_PING_SECRET = "PING-SECRET-OLD-3xKz-do-not-leak"
LEAK_MARKERS = ("do-not-leak", "7Yh2", "Qw9e", "3xKz")

GOOD_SECRET = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "gumroad_ping_secret": PING_SECRET}


def assert_no_secret_in(text: str) -> None:
    for marker in LEAK_MARKERS:
        assert marker not in text


@pytest.mark.parametrize("previous", ["", "   ", None, 42])
def test_a_blank_or_unusable_previous_ping_secret_is_ignored(previous: Any) -> None:
    credentials = parse_secret(json.dumps({**GOOD_SECRET, "gumroad_ping_secret_previous": previous}))

    assert credentials.gumroad_ping_secrets == (PING_SECRET,)


def test_surrounding_whitespace_in_secret_values_is_dropped() -> None:
    padded = {key: f"  {value}\n" for key, value in GOOD_SECRET.items()}

    assert parse_secret(json.dumps(padded)) == ServiceCredentials(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, gumroad_ping_secrets=(PING_SECRET,)
    )


@pytest.mark.parametrize(
    ("value", "expected"), [(" gumroad-oauth-token-Xy7 ", "gumroad-oauth-token-Xy7"), ("", None), (7, None)]
)
def test_the_gumroad_access_token_is_an_optional_key_never_shown(value: Any, expected: str | None) -> None:
    credentials = parse_secret(json.dumps({**GOOD_SECRET, "gumroad_access_token": value}))

    assert credentials.gumroad_access_token == expected
    assert "gumroad-oauth-token" not in repr(credentials)


def test_static_credentials_come_from_the_environment() -> None:
    static = StaticCredentials(EnvironmentCredentials(CLIENT_ID, CLIENT_SECRET, PING_SECRET))

    assert static.get() == ServiceCredentials(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, gumroad_ping_secrets=(PING_SECRET,)
    )
    static.invalidate()
    assert static.get().client_secret == CLIENT_SECRET


@pytest.mark.parametrize(
    "environment",
    [
        EnvironmentCredentials(None, CLIENT_SECRET, PING_SECRET),
        EnvironmentCredentials(CLIENT_ID, None, PING_SECRET),
        EnvironmentCredentials(CLIENT_ID, CLIENT_SECRET, None),
        EnvironmentCredentials(CLIENT_ID, "", PING_SECRET),
    ],
    ids=["no-client-id", "no-client-secret", "no-ping-secret", "empty-client-secret"],
)
def test_static_credentials_require_all_three_values(environment: EnvironmentCredentials) -> None:
    with pytest.raises(ConfigurationError) as caught:
        StaticCredentials(environment)

    message = str(caught.value)
    assert "AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and GUMROAD_PING_SECRET must be set" in message
    assert_no_secret_in(message)


@pytest.mark.parametrize(("value", "expected"), [(" POST-LOGIN-do-not-leak ", "POST-LOGIN-do-not-leak"), ("", None)])
def test_the_post_login_secret_is_an_optional_key_never_shown(value: Any, expected: str | None) -> None:
    credentials = parse_secret(json.dumps({**GOOD_SECRET, "post_login_secret": value}))

    assert credentials.post_login_secret == expected
    assert_no_secret_in(repr(credentials))


def test_the_post_login_secret_comes_from_the_environment_locally() -> None:
    static = StaticCredentials(EnvironmentCredentials(CLIENT_ID, CLIENT_SECRET, PING_SECRET, "POST-LOGIN-do-not-leak"))

    assert static.get().post_login_secret == "POST-LOGIN-do-not-leak"
