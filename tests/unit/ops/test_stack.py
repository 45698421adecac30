"""`ops --stack NAME`: the deployed stack's parameters and outputs as settings; AWS failures as one line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import wiring
from ops.__main__ import main as ops
from ops.settings import OPS_SETTINGS
from ops.stack import OUTPUTS, PARAMETERS

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = json.loads((ROOT / ".chalice" / "deploy-resources.json").read_text())
STACK = "gumroad-auth0-gate-prod"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gumroad-auth0-gate/prod-AbCdEf"
REAL = {
    "Auth0Domain": "shop.eu.auth0.com",
    "Auth0Audience": "https://courses.shop.example/api",
    "Auth0SecretArn": SECRET_ARN,
    "GumroadSellerId": "kL0psVL2admJSYRNs-OCMg==",
}
AWS_VARIABLES = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No AWS configuration from this machine, no ops settings; what ops loads is undone afterwards."""
    saved = dict(os.environ)
    for name in (*AWS_VARIABLES, *OPS_SETTINGS, "AUTH0_CLIENT_SECRET", "GUMROAD_PING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    wiring.clear_caches()
    yield
    os.environ.clear()
    os.environ.update(saved)
    wiring.clear_caches()


OWN_CATALOGUE = "tests/fixtures/courses.lessons.json"  # holds serverless-handbook


def aws_credentials(monkeypatch: pytest.MonkeyPatch, *, region: str | None = "eu-west-1") -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    if region:
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)


def stack_template() -> dict[str, Any]:
    """The real template's parameters, queues and outputs; the ping URL without Chalice's RestAPI."""
    resources = {
        name: TEMPLATE["Resources"][name] for name in ("PingQueue", "PingDeadLetterQueue", "ReconcileWatermark")
    }
    outputs = {
        name: TEMPLATE["Outputs"][name]
        for name in ("PingQueueUrl", "PingDeadLetterQueueUrl", "ReconcileWatermarkParameter")
    }
    outputs["GumroadPingUrl"] = {
        "Value": {"Fn::Sub": "https://abc123.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/gumroad/ping"}
    }
    return {"Parameters": TEMPLATE["Parameters"], "Resources": resources, "Outputs": outputs}


def deploy(parameters: dict[str, str], *, template: dict[str, Any] | None = None) -> None:
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template or stack_template()),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
    )


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = ops(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_settings_map_names_only_parameters_and_outputs_the_template_has() -> None:
    assert set(PARAMETERS) <= set(TEMPLATE["Parameters"])
    assert set(OUTPUTS) <= set(TEMPLATE["Outputs"])


def test_deployed_stages_keep_no_deploy_time_setting_in_the_chalice_config() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in ("dev", "prod"):
        variables = config["stages"][stage]["environment_variables"]
        assert not set(variables) & set(PARAMETERS.values()), "the stack's parameters are the one source"


def test_stack_parameters_and_outputs_become_the_commands_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        deploy(REAL)
        sqs = boto3.client("sqs", region_name="eu-west-1")
        dead_letters = sqs.get_queue_url(QueueName=f"{STACK}-pings-dlq.fifo")["QueueUrl"]
        sqs.send_message(
            QueueUrl=dead_letters, MessageBody="not an event", MessageGroupId="g", MessageDeduplicationId="d"
        )

        code, out, err = run(["--stack", STACK, "dlq", "show"], capsys)

    assert (code, err) == (0, "")
    assert '"message_id"' in out  # the stack's dead-letter queue was read
    assert os.environ["AUTH0_DOMAIN"] == "shop.eu.auth0.com"
    assert os.environ["AUTH0_SECRET_ID"] == SECRET_ARN
    assert os.environ["GUMROAD_SELLER_ID"] == REAL["GumroadSellerId"]
    assert os.environ["PING_QUEUE_URL"].endswith(f"/{STACK}-pings.fifo")
    assert os.environ["GUMROAD_PING_URL"] == "https://abc123.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping"


def test_a_stack_deployed_with_placeholders_is_refused_naming_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        deploy({**REAL, "GumroadSellerId": "REPLACE_WITH_YOUR_GUMROAD_SELLER_ID", "Auth0Domain": "<tenant>"})

        code, out, err = run(["--stack", STACK, "backfill"], capsys)

    assert (code, out) == (2, "")
    assert "GUMROAD_SELLER_ID=REPLACE_WITH_YOUR_GUMROAD_SELLER_ID" in err
    assert "AUTH0_DOMAIN=<tenant>" in err
    assert len(err.strip().splitlines()) == 1


def test_a_stack_without_an_output_the_commands_need_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    template = stack_template()
    del template["Outputs"]["PingDeadLetterQueueUrl"]
    with mock_aws():
        deploy(REAL, template=template)

        code, _, err = run(["--stack", STACK, "dlq", "show"], capsys)

    assert code == 2
    assert "lacks PingDeadLetterQueueUrl (PING_DEAD_LETTER_QUEUE_URL)" in err


def test_the_content_bucket_and_prefix_come_from_the_stack_when_it_has_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    aws_credentials(monkeypatch)
    monkeypatch.setenv("COURSES_FILE", OWN_CATALOGUE)  # not the shipped one, which a creator fills in
    template = stack_template()
    template["Outputs"]["ContentBucketName"] = {"Value": "shop-contentbucket-1a2b3c"}
    template["Outputs"]["ContentPrefix"] = TEMPLATE["Outputs"]["ContentPrefix"]
    (tmp_path / "01-intro.html").write_text("<h1>Intro</h1>", encoding="utf-8")
    with mock_aws():
        boto3.client("s3", region_name="eu-west-1").create_bucket(
            Bucket="shop-contentbucket-1a2b3c", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        deploy(REAL, template=template)

        code, out, err = run(
            ["--stack", STACK, "content", "push", str(tmp_path), "--course", "serverless-handbook"], capsys
        )

    assert (code, err) == (0, "content push: 1/1 new courses/serverless-handbook/01-intro.html\n")
    assert "would upload (dry run; add --apply) to s3://shop-contentbucket-1a2b3c/: 1 file(s)" in out
    assert (os.environ["CONTENT_BUCKET"], os.environ["CONTENT_PREFIX"]) == ("shop-contentbucket-1a2b3c", "courses/")


def test_a_stack_deployed_before_the_content_bucket_still_serves_the_other_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    aws_credentials(monkeypatch)
    monkeypatch.setenv("COURSES_FILE", OWN_CATALOGUE)
    with mock_aws():
        deploy(REAL)

        shown = run(["--stack", STACK, "dlq", "show"], capsys)
        pushed = run(["--stack", STACK, "content", "push", str(tmp_path), "--course", "serverless-handbook"], capsys)

    assert shown[0] == 0
    assert pushed[0] == 2
    assert "CONTENT_BUCKET (the content bucket) is not set: pass --stack" in pushed[2]


def test_an_unknown_stack_is_one_line_naming_it_and_the_region(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        code, _, err = run(["--stack", "no-such-stack", "dlq", "show"], capsys)

    assert code == 2
    assert err == "ops: not_configured: no CloudFormation stack named 'no-such-stack' in eu-west-1: check --stack " + (
        "and AWS_DEFAULT_REGION\n"
    )


def test_a_placeholder_from_the_stage_config_is_refused_before_any_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUMROAD_SELLER_ID", "REPLACE_WITH_YOUR_GUMROAD_SELLER_ID")

    code, _, err = run(["--stage", "prod", "backfill"], capsys)

    assert code == 2
    assert "GUMROAD_SELLER_ID=REPLACE_WITH_YOUR_GUMROAD_SELLER_ID (from the environment)" in err


@pytest.mark.parametrize(
    ("chosen", "says"),
    [
        ([], ": pass --stack <your stack name> to read the deployed stack, --stage local for the sandbox, or export"),
        (["--stage", "prod"], " by stage 'prod' (.chalice/config.json): pass --stack <your stack name> to read the"),
    ],
)
def test_a_command_without_its_settings_says_to_pass_the_stack(
    capsys: pytest.CaptureFixture[str], chosen: list[str], says: str
) -> None:
    code, _, err = run([*chosen, "check"], capsys)

    assert code == 2
    assert err.startswith("ops: not_configured: AUTH0_DOMAIN (the Auth0 tenant) is not set" + says)
    assert err.count("--stage") == (0 if chosen else 1)  # never offers the stage it was given
    assert "Traceback" not in err


def test_no_region_is_one_line_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch, region=None)
    monkeypatch.setenv("PING_DEAD_LETTER_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq.fifo")

    code, out, err = run(["dlq", "show"], capsys)

    assert (code, out) == (2, "")
    assert err.startswith("ops: aws_not_configured: no AWS region: set AWS_DEFAULT_REGION")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("command", [["dlq", "show"], ["dlq", "redrive"], ["rerun", "SaleId0000000000000000=="]])
def test_no_credentials_is_one_line_with_exit_code_2(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("PING_QUEUE_URL", "PING_DEAD_LETTER_QUEUE_URL"):
        monkeypatch.setenv(name, "https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo")
    monkeypatch.setenv("AUTH0_DOMAIN", "shop.eu.auth0.com")
    monkeypatch.setenv("AUTH0_SECRET_ID", SECRET_ARN)

    code, _, err = run(command, capsys)

    assert code == 2
    assert err.startswith("ops: aws_not_configured: no AWS credentials: set AWS_PROFILE")
    assert len(err.splitlines()) == 1


def test_aws_region_is_honoured_as_the_aws_cli_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch, region=None)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        deploy(REAL)

        code, _, err = run(["--stack", STACK, "dlq", "show"], capsys)

    assert (code, err) == (0, "")
    assert os.environ["PING_DEAD_LETTER_QUEUE_URL"].startswith("https://sqs.eu-west-1.")


def test_an_aws_error_answer_is_one_line_naming_the_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    monkeypatch.setenv("PING_DEAD_LETTER_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/gone.fifo")
    with mock_aws():
        code, _, err = run(["dlq", "show"], capsys)

    assert code == 2
    assert err.startswith("ops: aws_error: AWS refused ReceiveMessage: ")
    assert len(err.splitlines()) == 1


def test_the_placeholder_catalogue_is_refused_before_any_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", "gumroad-oauth-token-for-tests-Xq9")
    # The catalogue as the repository ships it (a copy: filling in chalicelib/courses.json changes no test).
    monkeypatch.setenv("COURSES_FILE", "tests/fixtures/deploy/courses.placeholder.json")
    with mock_aws():
        deploy(REAL)

        code, out, err = run(["--stack", STACK, "--stage", "prod", "backfill"], capsys)

    assert (code, out) == (2, "")
    assert "course 'serverless-handbook' role_id is a placeholder (rol_REPLACE_WITH_THE_AUTH0_ROLE_ID)" in err


def test_ping_url_reads_the_stacks_url_and_the_secret_step_2_generated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    secret = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c"
    with mock_aws():
        created = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
            Name="gumroad-auth0-gate/prod",
            SecretString=json.dumps({"client_id": "m2m", "client_secret": "m2m-secret", "gumroad_ping_secret": secret}),
        )
        deploy({**REAL, "Auth0SecretArn": created["ARN"]})

        masked = run(["--stack", STACK, "ping-url"], capsys)
        revealed = run(["--stack", STACK, "ping-url", "--reveal"], capsys)

    assert masked[0] == 0, masked[2]
    assert secret not in masked[1] + masked[2]
    host = "abc123.execute-api.eu-west-1.amazonaws.com"
    assert revealed == (0, f"https://gumroad:{secret}@{host}/api/gumroad/ping\n", "")


def test_the_stack_wins_over_an_exported_value_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    monkeypatch.setenv("AUTH0_DOMAIN", "another-tenant.eu.auth0.com")
    with mock_aws():
        deploy(REAL)

        code, _, err = run(["--stack", STACK, "dlq", "show"], capsys)

    assert code == 0
    assert err == "ops: note: AUTH0_DOMAIN is the stack's, not the one in your environment\n"
    assert os.environ["AUTH0_DOMAIN"] == "shop.eu.auth0.com"
