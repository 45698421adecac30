"""The reconciliation's settings: its window's defaults and bounds, and where Gumroad's access token comes from."""

from __future__ import annotations

import pytest

from chalicelib.config.reconcile_settings import (
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_OVERLAP_MINUTES,
    gumroad_access_token,
    load_reconcile_settings,
)
from chalicelib.errors import ConfigurationError

SECRET_TOKEN = "gumroad-token-from-the-secret-Hq2"
ENVIRONMENT_TOKEN = "gumroad-token-from-the-environment-Lp7"


def test_without_settings_the_window_takes_its_defaults_and_nothing_else_is_set() -> None:
    settings = load_reconcile_settings({})

    assert (settings.lookback_days, settings.overlap_minutes) == (DEFAULT_LOOKBACK_DAYS, DEFAULT_OVERLAP_MINUTES)
    assert settings.watermark_parameter is None
    assert settings.ping_url is None


def test_the_window_and_the_parameter_are_read_from_their_variables() -> None:
    settings = load_reconcile_settings(
        {
            "RECONCILE_WATERMARK_PARAMETER": "/gumroad-auth0-gate/prod/watermark",
            "GUMROAD_PING_URL": "https://api.example.com/gumroad/ping",
            "RECONCILE_LOOKBACK_DAYS": "90",
            "RECONCILE_OVERLAP_MINUTES": "0",
        }
    )

    assert settings.watermark_parameter == "/gumroad-auth0-gate/prod/watermark"
    assert settings.ping_url == "https://api.example.com/gumroad/ping"
    assert (settings.lookback_days, settings.overlap_minutes) == (90, 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RECONCILE_LOOKBACK_DAYS", "0"), ("RECONCILE_LOOKBACK_DAYS", "401"), ("RECONCILE_OVERLAP_MINUTES", "-1")],
)
def test_a_window_outside_its_bounds_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        load_reconcile_settings({variable: value})


def test_the_secrets_gumroad_token_wins_over_the_environment() -> None:
    token = gumroad_access_token({"GUMROAD_ACCESS_TOKEN": ENVIRONMENT_TOKEN}, from_secret=SECRET_TOKEN)

    assert token == SECRET_TOKEN


def test_without_a_token_in_the_secret_the_environment_gives_it() -> None:
    assert (
        gumroad_access_token({"GUMROAD_ACCESS_TOKEN": f"  {ENVIRONMENT_TOKEN} "}, from_secret=None) == ENVIRONMENT_TOKEN
    )


@pytest.mark.parametrize("environ", [{}, {"GUMROAD_ACCESS_TOKEN": "   "}])
def test_no_token_anywhere_is_a_configuration_error_naming_both_places(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as refused:
        gumroad_access_token(environ)

    assert "GUMROAD_ACCESS_TOKEN is not set" in refused.value.message
    assert "gumroad_access_token in the secret AUTH0_SECRET_ID names" in refused.value.message
