"""The private routes' settings: the verifier's issuer, JWKS URL, algorithms and leeway, and CORS origins."""

from __future__ import annotations

import pytest

from chalicelib.config.access_settings import load_access_settings, load_cors_policy
from chalicelib.errors import ConfigurationError
from tests.tokens import AUDIENCE, ISSUER


def test_settings_default_the_issuer_and_jwks_url_from_the_domain() -> None:
    settings = load_access_settings({"AUTH0_AUDIENCE": AUDIENCE, "AUTH0_DOMAIN": "Tenant.Example.Auth0.com"})
    assert settings.issuer == ISSUER
    assert settings.jwks_url == "https://tenant.example.auth0.com/.well-known/jwks.json"
    assert settings.algorithms == ("RS256",)
    assert 0 < settings.leeway_seconds <= 30


def test_a_domain_given_as_a_base_url_gets_exactly_one_trailing_slash() -> None:
    settings = load_access_settings({"AUTH0_AUDIENCE": AUDIENCE, "AUTH0_DOMAIN": "https://tenant.example.auth0.com/"})
    assert settings.issuer == ISSUER


def test_a_custom_domain_issuer_is_kept_exactly_and_names_the_jwks_url() -> None:
    settings = load_access_settings(
        {
            "AUTH0_AUDIENCE": AUDIENCE,
            "AUTH0_DOMAIN": "tenant.example.auth0.com",
            "AUTH0_ISSUER": "https://login.example.com/",
        }
    )
    assert settings.issuer == "https://login.example.com/"
    assert settings.jwks_url == "https://login.example.com/.well-known/jwks.json"


def test_explicit_jwks_url_algorithms_and_leeway_are_read() -> None:
    settings = load_access_settings(
        {
            "AUTH0_AUDIENCE": AUDIENCE,
            "AUTH0_ISSUER": ISSUER,
            "AUTH0_JWKS_URL": "https://keys.example.com/jwks.json",
            "AUTH0_ALGORITHMS": "RS256, ES256 PS256",
            "AUTH0_LEEWAY_SECONDS": "60",
        }
    )
    assert settings.jwks_url == "https://keys.example.com/jwks.json"
    assert settings.algorithms == ("RS256", "ES256", "PS256")
    assert settings.leeway_seconds == 60


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"AUTH0_AUDIENCE": ""}, "AUTH0_AUDIENCE"),
        ({"AUTH0_DOMAIN": ""}, "AUTH0_DOMAIN"),
        ({"AUTH0_ALGORITHMS": "HS256"}, "AUTH0_ALGORITHMS"),
        ({"AUTH0_ALGORITHMS": "RS256,none"}, "AUTH0_ALGORITHMS"),
        ({"AUTH0_LEEWAY_SECONDS": "61"}, "AUTH0_LEEWAY_SECONDS"),
        ({"AUTH0_LEEWAY_SECONDS": "-1"}, "AUTH0_LEEWAY_SECONDS"),
        ({"AUTH0_LEEWAY_SECONDS": "5s"}, "AUTH0_LEEWAY_SECONDS"),
        ({"AUTH0_ISSUER": "tenant.example.auth0.com/"}, "AUTH0_ISSUER"),
        ({"AUTH0_ISSUER": "http://tenant.example.auth0.com/"}, "AUTH0_ISSUER"),
        ({"AUTH0_JWKS_URL": "http://keys.example.com/jwks.json"}, "AUTH0_JWKS_URL"),
        ({"AUTH0_JWKS_URL": "https://user:pw@keys.example.com/"}, "AUTH0_JWKS_URL"),
    ],
)
def test_invalid_settings_raise_an_error_naming_the_variable(changes: dict[str, str], variable: str) -> None:
    environ = {"AUTH0_AUDIENCE": AUDIENCE, "AUTH0_DOMAIN": "tenant.example.auth0.com", **changes}
    with pytest.raises(ConfigurationError, match=variable):
        load_access_settings(environ)


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("https://app.example.com", ("https://app.example.com",)),
        ("https://a.example, http://localhost:3000", ("https://a.example", "http://localhost:3000")),
        ("*", ("*",)),
        ("", ()),
    ],
)
def test_cors_allow_origin_accepts_origins_or_a_wildcard(value: str, origins: tuple[str, ...]) -> None:
    assert load_cors_policy({"CORS_ALLOW_ORIGIN": value}).allowed_origins == origins


@pytest.mark.parametrize(
    "value",
    ["https://app.example.com/", "app.example.com", "https://app.example.com/spa", "ftp://x.example"],
)
def test_cors_allow_origin_refuses_anything_but_an_origin(value: str) -> None:
    with pytest.raises(ConfigurationError, match="CORS_ALLOW_ORIGIN"):
        load_cors_policy({"CORS_ALLOW_ORIGIN": value})
