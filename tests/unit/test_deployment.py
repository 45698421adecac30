"""The deployment's settings agree with each other: least privilege, timeouts, retries, pacing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app import WORKER_MAXIMUM_CONCURRENCY
from chalicelib import metrics
from chalicelib.catalogue import load_catalogue
from chalicelib.config.purchase_settings import MAX_PING_DEADLINE_SECONDS, load_purchase_settings
from chalicelib.purchases.worker import BACKOFF_SECONDS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
TEMPLATE = json.loads((ROOT / ".chalice" / "deploy-resources.json").read_text())
DEPLOYED = ("dev", "prod")
WATERMARK_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ReconcileWatermark}"
GUMROAD_TIMEOUT_SECONDS = 5


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["Statement"])


def template_policies() -> list[dict[str, Any]]:
    found = []
    for name in ("ApiHandlerRole", "ProcessPingRole", "ReconcileRole"):
        for policy in TEMPLATE["Resources"][name]["Properties"]["Policies"]:
            found.extend(statements(policy["PolicyDocument"]))
    return found


def test_the_template_grants_each_permission_on_one_named_resource_only() -> None:
    for statement in template_policies():
        resource = statement["Resource"]
        assert isinstance(resource, dict), (
            f"{statement['Sid']} must name its resource with Ref/GetAtt, not {resource!r}"
        )
        if "Fn::Sub" in resource:
            # An SSM parameter has no Arn attribute: its ARN is built from the parameter's own Ref, nothing else.
            assert resource == {"Fn::Sub": WATERMARK_ARN}, statement["Sid"]
            continue
        assert set(resource) <= {"Ref", "Fn::GetAtt"}
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)


def test_the_api_may_only_read_the_secret_queue_pings_and_log() -> None:
    policy = TEMPLATE["Resources"]["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    granted = {(str(s["Action"]), json.dumps(s["Resource"])) for s in statements(policy)}
    assert granted == {
        ("secretsmanager:GetSecretValue", json.dumps({"Ref": "Auth0SecretArn"})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["PingQueue", "Arn"]})),
        (str(["logs:CreateLogStream", "logs:PutLogEvents"]), json.dumps({"Fn::GetAtt": ["APIHandlerLogGroup", "Arn"]})),
    }


@pytest.mark.parametrize("stage", DEPLOYED)
def test_the_policy_files_pin_every_resource_to_this_app_and_stage(stage: str) -> None:
    for role in ("api", "worker", "reconcile"):
        policy = json.loads((ROOT / ".chalice" / f"policy-{stage}-{role}.json").read_text())
        for statement in statements(policy):
            resource = statement["Resource"]
            assert resource != "*"
            assert f"gumroad-auth0-gate/{stage}" in resource or f"gumroad-auth0-gate-{stage}" in resource


@pytest.mark.parametrize("stage", DEPLOYED)
def test_lambda_timeouts_fit_gumroads_five_seconds_and_the_workers_budget(stage: str) -> None:
    functions = CONFIG["stages"][stage]["lambda_functions"]
    api_timeout = functions["api_handler"]["lambda_timeout"]
    worker_timeout = functions["process_ping"]["lambda_timeout"]
    worker_deadline = float(functions["process_ping"]["environment_variables"]["WORKER_DEADLINE_SECONDS"])
    visibility = TEMPLATE["Resources"]["PingQueue"]["Properties"]["VisibilityTimeout"]

    assert MAX_PING_DEADLINE_SECONDS < GUMROAD_TIMEOUT_SECONDS <= api_timeout, (
        "the deadline, not Lambda, ends a slow ping"
    )
    assert worker_deadline + 5 <= worker_timeout, "the worker stops itself before Lambda kills it"
    assert visibility >= 6 * worker_timeout, "AWS: visibility timeout at least six times the function timeout"


def test_the_redrive_policy_outlasts_an_hour_of_auth0_trouble() -> None:
    receives = TEMPLATE["Resources"]["PingQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    waited = sum(BACKOFF_SECONDS[min(n, len(BACKOFF_SECONDS)) - 1] for n in range(1, receives))

    assert waited >= 3600


@pytest.mark.parametrize("stage", DEPLOYED)
def test_the_worker_has_no_reserved_concurrency_that_could_throttle_its_pollers(stage: str) -> None:
    worker = CONFIG["stages"][stage]["lambda_functions"]["process_ping"]
    # AWS: throttled receives count toward maxReceiveCount, so a burst could dead-letter unprocessed pings.
    reserved = worker.get("reserved_concurrency")
    assert reserved is None or reserved >= WORKER_MAXIMUM_CONCURRENCY
    assert WORKER_MAXIMUM_CONCURRENCY >= 2, "the event source's MaximumConcurrency is at least 2"


@pytest.mark.parametrize("stage", DEPLOYED)
def test_the_workers_together_pace_at_the_configured_tenant_rate(stage: str) -> None:
    stage_config = CONFIG["stages"][stage]
    environment = {
        **CONFIG["environment_variables"],
        **stage_config["environment_variables"],
        **stage_config["lambda_functions"]["process_ping"]["environment_variables"],
        # The stack's parameters (Auth0Domain, Auth0SecretArn) give these in AWS.
        "AUTH0_DOMAIN": "example.us.auth0.com",
        "AUTH0_SECRET_ID": "set",
    }
    tenant_rate = float(environment["AUTH0_RATE_LIMIT_PER_SECOND"])
    tenant_burst = int(environment["AUTH0_RATE_LIMIT_BURST"])

    settings = load_purchase_settings(environment, app_dir=ROOT)

    assert settings.management_rate is not None
    assert settings.management_rate * WORKER_MAXIMUM_CONCURRENCY == pytest.approx(tenant_rate)
    assert 1 <= settings.management_burst * WORKER_MAXIMUM_CONCURRENCY <= max(tenant_burst, WORKER_MAXIMUM_CONCURRENCY)


@pytest.fixture(scope="module")
def packaged_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The prod template `make package STAGE=prod` builds (and cfn-lint checks): out/prod/sam.json when it
    is newer than its sources, else packaged afresh."""
    built = ROOT / "out" / "prod" / "sam.json"
    sources = [ROOT / "app.py", ROOT / ".chalice" / "config.json", ROOT / ".chalice" / "deploy-resources.json"]
    if not built.exists() or built.stat().st_mtime < max(source.stat().st_mtime for source in sources):
        out = tmp_path_factory.mktemp("package") / "prod"
        subprocess.run(
            [
                str(Path(sys.executable).parent / "chalice"),
                "package",
                "--stage",
                "prod",
                "--merge-template",
                ".chalice/deploy-resources.json",
                str(out),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        )
        built = out / "sam.json"
    template: dict[str, Any] = json.loads(built.read_text())
    return template


def test_the_packaged_worker_scales_through_its_event_sources_maximum_concurrency(
    packaged_template: dict[str, Any],
) -> None:
    worker = packaged_template["Resources"]["ProcessPing"]["Properties"]
    [source] = worker["Events"].values()

    assert source["Type"] == "SQS"
    assert source["Properties"]["ScalingConfig"] == {"MaximumConcurrency": WORKER_MAXIMUM_CONCURRENCY}
    assert source["Properties"]["BatchSize"] == 1
    assert "ReservedConcurrentExecutions" not in worker


@pytest.mark.parametrize("stage", DEPLOYED)
def test_each_deployed_stage_ships_a_valid_catalogue_inside_chalicelib(stage: str) -> None:
    path = CONFIG["stages"][stage]["environment_variables"]["COURSES_FILE"]

    assert path.startswith("chalicelib/"), "only app.py and chalicelib/ go into the Lambda zip"
    assert load_catalogue(ROOT / path).courses


def test_the_worker_reads_the_queue_the_template_creates() -> None:
    worker = TEMPLATE["Resources"]["ProcessPing"]["Properties"]
    assert worker["Events"]["ProcessPingSqsEventSource"]["Properties"]["Queue"] == {"Fn::GetAtt": ["PingQueue", "Arn"]}
    assert worker["Environment"]["Variables"]["PING_QUEUE_URL"] == {"Ref": "PingQueue"}
    assert worker["Environment"]["Variables"]["PING_DEAD_LETTER_QUEUE_URL"] == {"Ref": "PingDeadLetterQueue"}
    assert TEMPLATE["Resources"]["PingQueue"]["Properties"]["FifoQueue"] is True


def test_the_reconciliation_may_only_read_the_secret_queue_events_move_its_watermark_and_log() -> None:
    policy = TEMPLATE["Resources"]["ReconcileRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    granted = {(str(s["Action"]), json.dumps(s["Resource"])) for s in statements(policy)}

    assert granted == {
        ("secretsmanager:GetSecretValue", json.dumps({"Ref": "Auth0SecretArn"})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["PingQueue", "Arn"]})),
        (str(["ssm:GetParameter", "ssm:PutParameter"]), json.dumps({"Fn::Sub": WATERMARK_ARN})),
        (str(["logs:CreateLogStream", "logs:PutLogEvents"]), json.dumps({"Fn::GetAtt": ["ReconcileLogGroup", "Arn"]})),
    }
    watermark = TEMPLATE["Resources"]["ReconcileWatermark"]
    assert watermark["Type"] == "AWS::SSM::Parameter"
    assert watermark["Properties"]["Name"] == {"Fn::Sub": "/${AWS::StackName}/reconcile/watermark"}


def test_the_reconciliation_runs_on_the_configured_schedule_into_the_ping_queue() -> None:
    function = TEMPLATE["Resources"]["Reconcile"]["Properties"]
    variables = function["Environment"]["Variables"]

    assert function["Events"]["ReconcileEvent"]["Properties"]["Schedule"] == {"Ref": "ReconcileSchedule"}
    assert function["EventInvokeConfig"] == {"MaximumRetryAttempts": 0}, "the next scheduled run is the retry"
    assert variables["PING_QUEUE_URL"] == {"Ref": "PingQueue"}
    assert variables["RECONCILE_WATERMARK_PARAMETER"] == {"Ref": "ReconcileWatermark"}
    assert variables["GUMROAD_PING_URL"] == TEMPLATE["Outputs"]["GumroadPingUrl"]["Value"]


def test_the_alarms_and_dashboard_read_the_metrics_the_code_writes() -> None:
    resources = TEMPLATE["Resources"]
    missing = resources["MissingSubscriptionsAlarm"]["Properties"]
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]

    assert (missing["Namespace"], missing["MetricName"]) == (metrics.NAMESPACE, metrics.MISSING_SUBSCRIPTIONS)
    assert missing["Dimensions"] == [{"Name": metrics.DIMENSION, "Value": {"Fn::Sub": "${AWS::StackName}-reconcile"}}]
    assert missing["AlarmActions"] == [{"Ref": "DeadLetterTopic"}]
    for name in (
        metrics.PURCHASES_FULFILLED,
        metrics.ACCESS_REMOVED,
        metrics.SECONDS_TO_ACCESS,
        metrics.AUTH0_THROTTLED,
        metrics.DEAD_LETTERS,
        metrics.RECONCILIATION_ENQUEUED,
        metrics.RECONCILIATION_GRANTED,
        metrics.RECONCILIATION_REVOKED,
        metrics.RECONCILIATION_ALREADY_RIGHT,
        metrics.MISSING_SUBSCRIPTIONS,
    ):
        assert f'"{name}"' in body, name
    # The metrics' dimension is the function's name, which the template fixes.
    assert resources["ProcessPing"]["Properties"]["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-worker"}
    assert resources["Reconcile"]["Properties"]["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-reconcile"}
