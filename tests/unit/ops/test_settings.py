"""ops's settings: what --stage fills in, and the settings the service reads too, read by the service's loaders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.errors import ConfigurationError
from ops.__main__ import main as ops
from ops.errors import NotConfigured
from ops.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]
FIFO = "https://sqs.eu-west-1.amazonaws.com/123456789012/gumroad-auth0-gate-prod-pings.fifo"
STANDARD = "https://sqs.eu-west-1.amazonaws.com/123456789012/gumroad-auth0-gate-prod-pings"


def local_stage() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return {**config["environment_variables"], **config["stages"]["local"]["environment_variables"]}


def test_the_stage_fills_only_what_the_environment_leaves_unset() -> None:
    environ = {"COURSES_FILE": "tests/fixtures/courses.test.json"}

    settings = load_settings(stack=None, stage="local", environ=environ)

    # The stage's AWS_REGION (the local S3 endpoint's) becomes boto3's region too, as an exported one would.
    region = local_stage()["AWS_REGION"]
    assert environ == {
        **local_stage(),
        "COURSES_FILE": "tests/fixtures/courses.test.json",
        "AWS_DEFAULT_REGION": region,
    }
    assert settings.command == ".venv/bin/python -m ops --stage local"


def test_settings_are_read_only_when_a_command_asks_for_them() -> None:
    settings = load_settings(stack=None, stage=None, environ={"PING_QUEUE_URL": STANDARD})

    assert settings.seller_id() is None
    with pytest.raises(ConfigurationError, match="PING_QUEUE_URL must be the URL of an SQS FIFO queue"):
        settings.work_queue_url()


@pytest.mark.parametrize(
    ("command", "queues"),
    [
        (["dlq", "show"], {"PING_DEAD_LETTER_QUEUE_URL": STANDARD}),
        (["dlq", "redrive"], {"PING_DEAD_LETTER_QUEUE_URL": FIFO, "PING_QUEUE_URL": STANDARD}),
        (["dlq", "redrive"], {"PING_DEAD_LETTER_QUEUE_URL": STANDARD, "PING_QUEUE_URL": FIFO}),
    ],
    ids=["dead-letter-queue", "work-queue", "dead-letter-queue-of-redrive"],
)
def test_a_queue_that_is_not_fifo_is_refused_as_the_service_refuses_it_before_any_call(
    command: list[str], queues: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No AWS region or credentials here: the setting is refused before a client is built.
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name in ("PING_QUEUE_URL", "PING_DEAD_LETTER_QUEUE_URL", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in queues.items():
        monkeypatch.setenv(name, value)
    [name] = [name for name, value in queues.items() if value == STANDARD]

    code = ops(command)

    assert code == 2
    assert capsys.readouterr().err == (
        f"ops: service_misconfigured: {name} must be the URL of an SQS FIFO queue (ending in .fifo)\n"
    )


def test_the_login_route_is_on_exactly_when_the_stage_names_a_login_application() -> None:
    named = load_settings(stack=None, stage=None, environ={"AUTH0_LOGIN_CLIENT_ID": "loginClientId01"})
    unset = load_settings(stack=None, stage=None, environ={})

    assert named.login_on() is True
    assert unset.login_on() is False


def test_the_spa_urls_from_cors_allow_origin_leave_out_its_wildcard() -> None:
    environ = {"CORS_ALLOW_ORIGIN": "*, https://app.example.com, https://www.example.com"}

    urls = load_settings(stack=None, stage=None, environ=environ).spa_urls()

    assert urls == ("https://app.example.com", "https://www.example.com")


def test_a_cors_allow_origin_of_only_the_wildcard_names_no_spa_url() -> None:
    settings = load_settings(stack=None, stage=None, environ={"CORS_ALLOW_ORIGIN": "*"})

    with pytest.raises(NotConfigured, match=r"^where is the SPA served\? Pass --spa-url URL"):
        settings.spa_urls()
