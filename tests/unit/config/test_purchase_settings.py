"""The purchase path's settings: AUTH0_DOMAIN parsing, required variables, defaults, bounds and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.config.purchase_settings import (
    DEFAULT_CONNECTION,
    OnboardingMode,
    PurchaseSettings,
    load_purchase_settings,
    parse_auth0_domain,
)
from chalicelib.errors import ConfigurationError

APP_DIR = Path("/var/task")
CLIENT_ID = "pQ7xVb2kLm9NcR4tYw1ZsD3fGh6JkE8a"
CLIENT_SECRET = "client-secret-Zq9XwV4u-never-print-me"
PING_SECRET = "ping-secret-8c1e5f0a-never-print-me"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gumroad-auth0-AbCdEf"

WITH_SECRET_ID = {"AUTH0_DOMAIN": "example.us.auth0.com", "AUTH0_SECRET_ID": SECRET_ARN}
WITH_LOCAL_CREDENTIALS = {
    "AUTH0_DOMAIN": "example.us.auth0.com",
    "AUTH0_CLIENT_ID": CLIENT_ID,
    "AUTH0_CLIENT_SECRET": CLIENT_SECRET,
    "GUMROAD_PING_SECRET": PING_SECRET,
}


def load(base: dict[str, str] | None = None, **overrides: str) -> PurchaseSettings:
    environ = dict(WITH_SECRET_ID if base is None else base)
    environ.update(overrides)
    return load_purchase_settings(environ, app_dir=APP_DIR)


def configuration_error(base: dict[str, str] | None = None, **overrides: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load(base, **overrides)
    return str(caught.value)


# --- AUTH0_DOMAIN --------------------------------------------------------------------------------


def test_a_tenant_domain_becomes_an_https_base_url() -> None:
    endpoint = load(AUTH0_DOMAIN="Example.US.auth0.com").auth0

    assert endpoint.base_url == "https://example.us.auth0.com"
    assert endpoint.scheme == "https"
    assert endpoint.netloc == "example.us.auth0.com"
    assert endpoint.management_base_url == "https://example.us.auth0.com/api/v2"
    assert endpoint.management_audience == "https://example.us.auth0.com/api/v2/"
    assert endpoint.default_issuer == "https://example.us.auth0.com/"


def test_surrounding_whitespace_around_the_domain_is_ignored() -> None:
    assert load(AUTH0_DOMAIN="  example.us.auth0.com\n").auth0.base_url == "https://example.us.auth0.com"


@pytest.mark.parametrize(
    ("value", "base_url", "netloc"),
    [
        ("https://example.us.auth0.com", "https://example.us.auth0.com", "example.us.auth0.com"),
        ("https://example.us.auth0.com/", "https://example.us.auth0.com", "example.us.auth0.com"),
        ("https://Login.Example.com:8443", "https://login.example.com:8443", "login.example.com:8443"),
    ],
)
def test_a_full_https_base_url_is_accepted_without_trailing_slash(value: str, base_url: str, netloc: str) -> None:
    endpoint = load(AUTH0_DOMAIN=value).auth0

    assert endpoint.base_url == base_url
    assert endpoint.netloc == netloc
    assert endpoint.management_base_url == f"{base_url}/api/v2"


@pytest.mark.parametrize(
    ("value", "base_url"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.5.6.7", "http://127.5.6.7"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://LOCALHOST", "http://localhost"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("http://[::1]", "http://[::1]"),
    ],
)
def test_plain_http_is_accepted_for_a_loopback_host(value: str, base_url: str) -> None:
    endpoint = load(AUTH0_DOMAIN=value).auth0

    assert endpoint.scheme == "http"
    assert endpoint.base_url == base_url


@pytest.mark.parametrize(
    "value",
    [
        "http://example.com",
        "http://example.us.auth0.com",
        "http://10.0.0.1",
        "http://192.168.1.20:8080",
        "http://[2001:db8::1]",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused_naming_auth0_domain(value: str) -> None:
    message = configuration_error(AUTH0_DOMAIN=value)

    assert message.startswith("AUTH0_DOMAIN ")
    assert "http://" in message
    assert "loopback" in message


def test_the_variable_named_in_a_domain_error_is_the_one_given() -> None:
    with pytest.raises(ConfigurationError, match=r"^AUTH0_ISSUER_DOMAIN "):
        parse_auth0_domain("http://example.com", variable="AUTH0_ISSUER_DOMAIN")


@pytest.mark.parametrize(
    "value",
    [
        "https://example.us.auth0.com/api/v2",
        "https://example.us.auth0.com/login",
        "https://example.us.auth0.com?tenant=x",
        "https://example.us.auth0.com/#top",
    ],
)
def test_a_url_with_a_path_query_or_fragment_is_refused(value: str) -> None:
    message = configuration_error(AUTH0_DOMAIN=value)

    assert "AUTH0_DOMAIN" in message
    assert "without path, query or fragment" in message


@pytest.mark.parametrize(
    "value",
    [
        "https://admin:hunter2-very-secret@example.us.auth0.com",
        "https://admin@example.us.auth0.com",
        "http://user:pw@127.0.0.1:8080",
    ],
)
def test_a_url_carrying_credentials_is_refused_without_echoing_them(value: str) -> None:
    message = configuration_error(AUTH0_DOMAIN=value)

    assert "AUTH0_DOMAIN must not contain credentials" in message
    assert "hunter2" not in message
    assert "admin" not in message


def test_a_scheme_other_than_https_or_http_is_refused() -> None:
    message = configuration_error(AUTH0_DOMAIN="ftp://example.us.auth0.com")

    assert "AUTH0_DOMAIN must use https://" in message


def test_an_out_of_range_port_is_refused() -> None:
    assert "AUTH0_DOMAIN has an invalid port" in configuration_error(AUTH0_DOMAIN="https://example.com:99999")


def test_a_url_without_a_host_is_refused() -> None:
    assert "AUTH0_DOMAIN has no valid host" in configuration_error(AUTH0_DOMAIN="https://")


def test_a_url_whose_host_is_not_a_hostname_is_refused() -> None:
    assert "AUTH0_DOMAIN has no valid host" in configuration_error(AUTH0_DOMAIN="https://exa mple.com")


@pytest.mark.parametrize(
    ("value", "base_url"),
    [
        ("https://example.us.auth0.com:443", "https://example.us.auth0.com"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("https://example.us.auth0.com:8443", "https://example.us.auth0.com:8443"),
    ],
)
def test_a_default_port_is_dropped_so_the_issuer_matches_auth0s(value: str, base_url: str) -> None:
    assert parse_auth0_domain(value).base_url == base_url


@pytest.mark.parametrize(
    "value", ["example.us.auth0.com/api", "example.us.auth0.com:443", "exa mple.com", "-example.com"]
)
def test_something_that_is_neither_a_domain_nor_a_url_is_refused(value: str) -> None:
    message = configuration_error(AUTH0_DOMAIN=value)

    assert message.startswith("AUTH0_DOMAIN must be a domain such as example.us.auth0.com")


def test_an_empty_domain_passed_directly_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="AUTH0_DOMAIN is empty"):
        parse_auth0_domain("   ")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_auth0_domain_is_named_in_the_error(value: str | None) -> None:
    environ = dict(WITH_SECRET_ID)
    if value is None:
        del environ["AUTH0_DOMAIN"]
    else:
        environ["AUTH0_DOMAIN"] = value

    message = configuration_error(environ)

    assert message == "AUTH0_DOMAIN is not set"


# --- credentials -----------------------------------------------------------------------------------


def test_with_a_secret_id_the_environment_credentials_are_not_required() -> None:
    settings = load()

    assert settings.secret_id == SECRET_ARN
    assert settings.environment_credentials.client_id is None
    assert settings.environment_credentials.client_secret is None
    assert settings.environment_credentials.gumroad_ping_secret is None


def test_without_a_secret_id_the_environment_credentials_are_read() -> None:
    settings = load(WITH_LOCAL_CREDENTIALS)

    assert settings.secret_id is None
    assert settings.environment_credentials.client_id == CLIENT_ID
    assert settings.environment_credentials.client_secret == CLIENT_SECRET
    assert settings.environment_credentials.gumroad_ping_secret == PING_SECRET


@pytest.mark.parametrize(
    "missing",
    [
        ("AUTH0_CLIENT_ID",),
        ("AUTH0_CLIENT_SECRET",),
        ("GUMROAD_PING_SECRET",),
        ("AUTH0_CLIENT_SECRET", "GUMROAD_PING_SECRET"),
        ("AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "GUMROAD_PING_SECRET"),
    ],
)
def test_without_a_secret_id_each_missing_credential_variable_is_named(missing: tuple[str, ...]) -> None:
    environ = {name: value for name, value in WITH_LOCAL_CREDENTIALS.items() if name not in missing}

    message = configuration_error(environ)

    assert message.startswith("AUTH0_SECRET_ID is unset")
    for name in ("AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "GUMROAD_PING_SECRET"):
        assert (name in message) == (name in missing), name
    assert CLIENT_SECRET not in message
    assert PING_SECRET not in message


def test_a_blank_credential_variable_counts_as_missing() -> None:
    message = configuration_error(WITH_LOCAL_CREDENTIALS, GUMROAD_PING_SECRET="   ")

    assert "GUMROAD_PING_SECRET" in message


def test_a_blank_secret_id_counts_as_unset() -> None:
    message = configuration_error(AUTH0_SECRET_ID="  ")

    assert message.startswith("AUTH0_SECRET_ID is unset")


# --- plain settings --------------------------------------------------------------------------------


def test_the_connection_defaults_to_the_auth0_database_connection() -> None:
    assert load().connection == DEFAULT_CONNECTION == "Username-Password-Authentication"


def test_the_connection_can_be_overridden() -> None:
    assert load(AUTH0_CONNECTION="buyers-db").connection == "buyers-db"


def test_the_seller_id_is_optional() -> None:
    assert load().seller_id is None
    assert load(GUMROAD_SELLER_ID="kL0psVL2admJSYRNs-OCMg==").seller_id == "kL0psVL2admJSYRNs-OCMg=="


def test_test_purchases_do_not_provision_by_default() -> None:
    assert load().provision_test_purchases is False


@pytest.mark.parametrize("value", ["true", "TRUE", " True ", "1", "yes", "on"])
def test_true_spellings_turn_a_boolean_setting_on(value: str) -> None:
    assert load(GUMROAD_PROVISION_TEST_PURCHASES=value).provision_test_purchases is True


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", "off", ""])
def test_false_spellings_turn_a_boolean_setting_off(value: str) -> None:
    assert load(GUMROAD_PROVISION_TEST_PURCHASES=value).provision_test_purchases is False


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_a_boolean_setting_that_is_neither_true_nor_false_is_refused(value: str) -> None:
    message = configuration_error(GUMROAD_PROVISION_TEST_PURCHASES=value)

    assert message == "GUMROAD_PROVISION_TEST_PURCHASES must be true or false"


def test_the_ping_deadline_defaults_to_four_seconds() -> None:
    assert load().ping_deadline_seconds == 4.0


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), ("3", 3.0), ("4.5", 4.5)])
def test_a_ping_deadline_inside_the_bounds_is_accepted(value: str, seconds: float) -> None:
    assert load(PING_DEADLINE_SECONDS=value).ping_deadline_seconds == seconds


@pytest.mark.parametrize("value", ["0.49", "0", "-1", "4.51", "25", "nan", "inf"])
def test_a_ping_deadline_outside_the_bounds_is_refused(value: str) -> None:
    message = configuration_error(PING_DEADLINE_SECONDS=value)

    assert message == "PING_DEADLINE_SECONDS must be between 0.5 and 4.5"


def test_a_ping_deadline_that_is_not_a_number_is_refused() -> None:
    assert configuration_error(PING_DEADLINE_SECONDS="4s") == "PING_DEADLINE_SECONDS must be a number"


def test_the_secret_ttl_defaults_to_five_minutes_and_is_bounded() -> None:
    assert load().secret_ttl_seconds == 300.0
    assert load(SECRET_TTL_SECONDS="0").secret_ttl_seconds == 0.0
    assert configuration_error(SECRET_TTL_SECONDS="-1") == "SECRET_TTL_SECONDS must be between 0 and 86400"


def test_buyer_onboarding_defaults_to_the_password_reset_email() -> None:
    assert load().onboarding is OnboardingMode.PASSWORD_RESET_EMAIL


@pytest.mark.parametrize(
    ("value", "onboarding"),
    [
        ("password_reset_email", OnboardingMode.PASSWORD_RESET_EMAIL),
        ("verification_email", OnboardingMode.VERIFICATION_EMAIL),
        ("VERIFICATION_EMAIL", OnboardingMode.VERIFICATION_EMAIL),
        ("none", OnboardingMode.NONE),
    ],
)
def test_each_buyer_onboarding_value_is_understood(value: str, onboarding: OnboardingMode) -> None:
    assert load(BUYER_ONBOARDING=value).onboarding is onboarding


def test_an_unknown_buyer_onboarding_value_is_refused_listing_the_choices() -> None:
    message = configuration_error(BUYER_ONBOARDING="magic_link")

    assert message == "BUYER_ONBOARDING must be one of: password_reset_email, verification_email, none"


def test_the_onboarding_client_id_is_optional() -> None:
    assert load().onboarding_client_id is None
    assert load(AUTH0_ONBOARDING_CLIENT_ID="spa-client").onboarding_client_id == "spa-client"


# --- redaction -------------------------------------------------------------------------------------


def test_the_settings_repr_never_shows_the_client_secret_or_the_ping_secret() -> None:
    settings = load(WITH_LOCAL_CREDENTIALS)

    for text in (repr(settings), str(settings), repr(settings.environment_credentials)):
        assert CLIENT_SECRET not in text
        assert PING_SECRET not in text
    assert "https://example.us.auth0.com" in repr(settings)


def test_the_trusted_connections_default_to_passwordless_email_and_google_not_the_database() -> None:
    # The service's own database users may always hold purchases; others of that connection only when listed.
    assert load().trusted_connections == frozenset({"email", "google-oauth2"})


def test_the_trusted_connections_can_be_narrowed_or_include_the_database_connection() -> None:
    assert load(AUTH0_TRUSTED_CONNECTIONS="email").trusted_connections == frozenset({"email"})
    assert load(AUTH0_TRUSTED_CONNECTIONS="Students, email", AUTH0_CONNECTION="Students").trusted_connections == (
        frozenset({"Students", "email"})
    )


@pytest.mark.parametrize("value", ["email;google-oauth2", "google oauth2 !", "x" * 200])
def test_trusted_connections_that_are_not_connection_names_are_refused_by_name(value: str) -> None:
    assert "AUTH0_TRUSTED_CONNECTIONS" in configuration_error(AUTH0_TRUSTED_CONNECTIONS=value)


def test_the_sign_in_deadline_stays_inside_the_actions_five_seconds() -> None:
    assert load().signin_deadline_seconds == 4.0
    assert "SIGNIN_DEADLINE_SECONDS" in configuration_error(SIGNIN_DEADLINE_SECONDS="6")
