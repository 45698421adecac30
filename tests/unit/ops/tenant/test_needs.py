"""What `ops tenant` wants, from the stage's settings: the SPA's URLs (the stack's SpaUrl deployed, the local
SPA's origin locally), the post-login Action's code, URL and secret. Own settings here, never the shipped ones."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ops.errors import InvalidOption, NotConfigured
from ops.settings import Settings, load_settings
from ops.tenant.model import SPA
from ops.tenant.needs import POST_LOGIN_ACTION, desired_for, post_login_action

ROOT = Path(__file__).resolve().parents[4]
CATALOGUE = ROOT / "tests" / "fixtures" / "courses.test.json"
MANAGEMENT = "https://shop.eu.auth0.com/api/v2/"
# A deployed stage as `--stack` fills it in (the stack's parameters and outputs), with nothing from a shell.
DEPLOYED = {
    "AUTH0_DOMAIN": "shop.eu.auth0.com",
    "AUTH0_AUDIENCE": "https://courses.example.com/api",
    "API_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/api",
    "SPA_URL": "https://d111111abcdef8.cloudfront.net/",
    "CORS_ALLOW_ORIGIN": "https://d111111abcdef8.cloudfront.net",
}


def arguments(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"spa_url": [], "token_lifetime": None, "api_url": None, **given})


def stage(name: str, environ: dict[str, str]) -> Settings:
    return load_settings(stack=None, stage=name, environ=dict(environ))


def test_a_deployed_stage_registers_the_stacks_spa_url_and_the_action_calls_the_stacks_api() -> None:
    settings = stage("prod", DEPLOYED)
    action = post_login_action(arguments(), settings, {"post_login_secret": "the-stored-one"})

    desired = desired_for(arguments(), settings, CATALOGUE, MANAGEMENT, action)

    spa = desired.client(SPA)
    assert spa is not None
    assert spa.settings["callbacks"] == ["https://d111111abcdef8.cloudfront.net"]
    assert spa.settings["allowed_logout_urls"] == ["https://d111111abcdef8.cloudfront.net"]
    assert spa.settings["web_origins"] == ["https://d111111abcdef8.cloudfront.net"]
    assert desired.action == action
    assert action.name == "gumroad-auth0-gate prod post-login"
    assert action.code == POST_LOGIN_ACTION.read_text(encoding="utf-8")
    assert action.runtime == "node22"
    assert dict(action.secrets) == {
        "POST_LOGIN_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/api/auth0/post-login",
        "POST_LOGIN_SECRET": "the-stored-one",
    }


def test_the_local_stage_registers_the_local_spa_and_the_action_calls_make_runs_service() -> None:
    local = {"AUTH0_DOMAIN": "http://127.0.0.1:8787", "AUTH0_AUDIENCE": "https://courses.local/api"}
    settings = stage("local", {**local, "CORS_ALLOW_ORIGIN": "http://127.0.0.1:3000", "POST_LOGIN_SECRET": "lpls"})
    action = post_login_action(arguments(), settings, {})

    spa = desired_for(arguments(), settings, CATALOGUE, MANAGEMENT, action).client(SPA)

    assert spa is not None
    assert spa.settings["callbacks"] == ["http://127.0.0.1:3000"]
    assert dict(action.secrets) == {
        "POST_LOGIN_URL": "http://127.0.0.1:8000/auth0/post-login",
        "POST_LOGIN_SECRET": "lpls",
    }


def test_a_service_without_a_post_login_secret_gets_a_new_random_one() -> None:
    settings = stage("prod", DEPLOYED)

    first = post_login_action(arguments(), settings, {}).secrets["POST_LOGIN_SECRET"]
    second = post_login_action(arguments(), settings, {}).secrets["POST_LOGIN_SECRET"]

    assert len(first) == 64
    assert first != second


def test_only_a_post_login_secret_made_by_this_run_is_new() -> None:
    deployed = stage("prod", DEPLOYED)
    local = stage("local", {**DEPLOYED, "POST_LOGIN_SECRET": "lpls"})

    assert post_login_action(arguments(), deployed, {}).secret_is_new is True
    assert post_login_action(arguments(), deployed, {"post_login_secret": "kept"}).secret_is_new is False
    assert post_login_action(arguments(), local, {}).secret_is_new is False


def test_a_deployed_stage_without_the_apis_url_is_refused_naming_what_to_pass() -> None:
    settings = stage("prod", {key: value for key, value in DEPLOYED.items() if key != "API_URL"})

    with pytest.raises(NotConfigured, match=r"--stack <your stack name> .*or --api-url URL"):
        post_login_action(arguments(), settings, {})


@pytest.mark.parametrize(
    "url", ["http://api.example.com", "ftp://127.0.0.1", "https://user@api.example.com", "https://a.example?x=1"]
)
def test_an_api_url_the_action_would_refuse_is_refused_before_any_call(url: str) -> None:
    with pytest.raises(InvalidOption, match="--api-url"):
        post_login_action(arguments(api_url=url), stage("prod", DEPLOYED), {})


@pytest.mark.parametrize("url", ["http://127.0.0.2:8000", "http://[::1]:8000", "http://LOCALHOST:8000/"])
def test_an_api_url_over_http_is_taken_for_any_loopback_host_as_the_services_own_settings_take_it(url: str) -> None:
    action = post_login_action(arguments(api_url=url), stage("prod", DEPLOYED), {})

    assert action.secrets["POST_LOGIN_URL"] == url.rstrip("/") + "/auth0/post-login"


@pytest.mark.parametrize("lifetime", [0, -5])
def test_a_token_lifetime_below_one_second_is_refused_naming_the_flag_given(lifetime: int) -> None:
    settings = stage("prod", DEPLOYED)
    action = post_login_action(arguments(), settings, {})

    with pytest.raises(InvalidOption) as refused:
        desired_for(arguments(token_lifetime=lifetime), settings, CATALOGUE, MANAGEMENT, action)

    assert refused.value.message == f"--token-lifetime must be a whole number of seconds above 0, not '{lifetime}'"


@pytest.mark.parametrize("url", ["https://app.example.com/app", "https://app.example.com/index.html"])
def test_a_spa_url_with_a_path_is_refused_as_not_an_origin(url: str) -> None:
    settings = stage("prod", DEPLOYED)
    action = post_login_action(arguments(), settings, {})

    with pytest.raises(InvalidOption) as refused:
        desired_for(arguments(spa_url=[url]), settings, CATALOGUE, MANAGEMENT, action)

    assert refused.value.message == f"--spa-url is the SPA's origin (scheme, host, port), not {url!r}"


def test_a_spa_url_with_a_trailing_slash_is_its_origin() -> None:
    settings = stage("prod", DEPLOYED)
    action = post_login_action(arguments(), settings, {})

    desired = desired_for(arguments(spa_url=["https://app.example.com/"]), settings, CATALOGUE, MANAGEMENT, action)

    spa = desired.client(SPA)
    assert spa is not None
    assert spa.settings["callbacks"] == ["https://app.example.com"]
