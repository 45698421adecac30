"""The deployment's settings agree with each other: least privilege, timeouts, retries, pacing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app import WORKER_MAXIMUM_CONCURRENCY
from chalicelib import metrics
from chalicelib.catalogue import load_catalogue
from chalicelib.config.purchase_settings import MAX_PING_DEADLINE_SECONDS, load_purchase_settings
from chalicelib.purchases.worker import BACKOFF_SECONDS
from chalicelib.web.answers import RETRY_AFTER_SECONDS
from tests.integration.harness import GUMROAD_RETRY_STATUSES

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
TEMPLATE = json.loads((ROOT / ".chalice" / "deploy-resources.json").read_text())
DEPLOYED = ("dev", "prod")
WATERMARK_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ReconcileWatermark}"
# The objects under the content prefix of the one bucket the stack creates: what the API signs lesson URLs for.
LESSONS_ARN = "arn:${AWS::Partition}:s3:::${ContentBucket}/${ContentPrefix}*"
GUMROAD_TIMEOUT_SECONDS = 5
# AWS Lambda: the default concurrency quota of an account in a region, and what Lambda keeps unreserved from it
# (docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
DEFAULT_ACCOUNT_CONCURRENCY = 1000
UNRESERVED_MINIMUM = 100
# The longest a request holds an API function instance in the reservation arithmetic: cold starts measured
# 0.25-0.4 s at 1024 MB (docs/creator-guide.md, "Sizes and settings"); a stranger's 401 or 405 needs no network at all.
LONGEST_REQUEST_SECONDS = 1
# $context variables that can carry what a caller sent (a header, the query string with the ping's ?token=, the raw
# path, an authorizer's output): never in the access log.
CALLER_DATA = re.compile(r"(?i)header|querystring|authoriz|apikey|override|^\$context\.path$")


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
            # An SSM parameter has no Arn attribute: its ARN is built from the parameter's own Ref, nothing else;
            # nor has an object: the lessons' ARN is the bucket's own Ref and the content prefix.
            assert resource in ({"Fn::Sub": WATERMARK_ARN}, {"Fn::Sub": LESSONS_ARN}), statement["Sid"]
            continue
        assert set(resource) <= {"Ref", "Fn::GetAtt"}
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)


def test_the_api_may_only_read_the_secret_queue_pings_read_lessons_and_log() -> None:
    policy = TEMPLATE["Resources"]["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    granted = {(str(s["Action"]), json.dumps(s["Resource"])) for s in statements(policy)}
    assert granted == {
        ("secretsmanager:GetSecretValue", json.dumps({"Ref": "Auth0SecretArn"})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["PingQueue", "Arn"]})),
        ("s3:GetObject", json.dumps({"Fn::Sub": LESSONS_ARN})),
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


def test_the_packaged_worker_scales_through_its_event_sources_maximum_concurrency(
    packaged_template: dict[str, Any],
) -> None:
    worker = packaged_template["Resources"]["ProcessPing"]["Properties"]
    [source] = worker["Events"].values()

    assert source["Type"] == "SQS"
    assert source["Properties"]["ScalingConfig"] == {"MaximumConcurrency": WORKER_MAXIMUM_CONCURRENCY}
    assert source["Properties"]["BatchSize"] == 1
    # AWS: throttled receives count toward maxReceiveCount, so a reservation below the event source's maximum
    # would dead-letter pings nobody processed (issue 9). At or above it, the pollers are never throttled by it.
    reserved = reservation(worker)
    assert reserved is None or reserved >= WORKER_MAXIMUM_CONCURRENCY


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


# --- Under a flood (issue 15, item 14): throttling, concurrency, the access log -----------------------------


def reservation(function: dict[str, Any]) -> int | None:
    """The function's reserved concurrency when the stack reserves (ReserveConcurrency=true); None: unreserved."""
    value = function.get("ReservedConcurrentExecutions")
    if value is None:
        return None
    condition, reserved, otherwise = value["Fn::If"]
    assert condition == "ReservesConcurrency"
    assert otherwise == {"Ref": "AWS::NoValue"}, "ReserveConcurrency=false reserves nothing"
    if isinstance(reserved, dict):
        return int(TEMPLATE["Parameters"][reserved["Ref"]]["Default"])
    return int(reserved)


def default(parameter: dict[str, str]) -> int:
    return int(TEMPLATE["Parameters"][parameter["Ref"]]["Default"])


def method_settings(packaged_template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    settings = packaged_template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    return {(setting["ResourcePath"], setting["HttpMethod"]): setting for setting in settings}


def test_every_method_is_throttled_and_the_ping_route_has_a_bucket_of_its_own(
    packaged_template: dict[str, Any],
) -> None:
    settings = method_settings(packaged_template)
    every_method = settings.pop(("/*", "*"))
    [(ping_path, ping_method)] = settings
    ping = settings[(ping_path, ping_method)]
    paths = packaged_template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    ping_url = TEMPLATE["Outputs"]["GumroadPingUrl"]["Value"]["Fn::Sub"]

    # AWS: a method setting's ResourcePath is "/" + the path with each "/" written "~1" ("/~1resource~1subresource").
    route = ping_path.removeprefix("/").replace("~1", "/")
    assert ping_method == "POST"
    assert "post" in paths[route]
    assert ping_url.endswith(f"/{CONFIG['stages']['prod']['api_gateway_stage']}{route}")
    # Stage limits apply to each method on its own; the ping's own setting replaces them for it, with its own
    # parameters: a flood on /courses spends /courses' tokens, never the ping's.
    assert every_method["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert every_method["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    assert ping["ThrottlingRateLimit"] == {"Ref": "PingRateLimit"}
    assert ping["ThrottlingBurstLimit"] == {"Ref": "PingBurstLimit"}
    for limits in (every_method, ping):
        assert default(limits["ThrottlingRateLimit"]) >= 1
        assert default(limits["ThrottlingBurstLimit"]) >= default(limits["ThrottlingRateLimit"])


def test_a_throttled_ping_is_answered_with_a_status_gumroad_retries_in_the_services_error_shape(
    packaged_template: dict[str, Any],
) -> None:
    responses = packaged_template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    throttled = responses["THROTTLED"]

    # API Gateway's own answer to a throttled request is 429, which Gumroad never retries.
    assert int(throttled["StatusCode"]) in GUMROAD_RETRY_STATUSES
    assert throttled["ResponseParameters"]["Headers"] == {"Retry-After": f"'{RETRY_AFTER_SECONDS}'"}
    body = json.loads(throttled["ResponseTemplates"]["application/json"])
    assert set(body) == {"error", "error_description"}
    assert body["error"] == "temporarily_unavailable"
    # A throttled Lambda (the API function at its reserved concurrency) is API Gateway's 500, which Gumroad
    # retries too: no gateway response may turn a 5xx into something it does not.
    for kind, response in responses.items():
        if kind.startswith("DEFAULT_5") or kind.startswith("INTEGRATION_"):
            assert int(response["StatusCode"]) in GUMROAD_RETRY_STATUSES, kind


def test_the_api_function_is_capped_and_the_worker_and_reconciliation_keep_concurrency_of_their_own(
    packaged_template: dict[str, Any],
) -> None:
    resources = packaged_template["Resources"]
    api = reservation(resources["APIHandler"]["Properties"])
    worker = reservation(resources["ProcessPing"]["Properties"])
    reconcile = reservation(resources["Reconcile"]["Properties"])
    [source] = resources["ProcessPing"]["Properties"]["Events"].values()

    assert resources["APIHandler"]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"][1] == {
        "Ref": "ApiReservedConcurrency"
    }
    assert api is not None
    assert worker is not None
    assert reconcile is not None
    assert worker >= source["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    assert reconcile >= 1
    assert TEMPLATE["Conditions"]["ReservesConcurrency"] == {"Fn::Equals": [{"Ref": "ReserveConcurrency"}, "true"]}
    assert TEMPLATE["Parameters"]["ReserveConcurrency"]["Default"] == "true"


def test_the_default_reservations_fit_the_account_and_hold_the_ping_and_any_one_route_at_full_burst() -> None:
    parameters = TEMPLATE["Parameters"]
    resources = TEMPLATE["Resources"]
    api = reservation(resources["APIHandler"]["Properties"])
    worker = reservation(resources["ProcessPing"]["Properties"])
    reconcile = reservation(resources["Reconcile"]["Properties"])
    assert api is not None
    assert worker is not None
    assert reconcile is not None

    def in_flight(rate: str, burst: str) -> int:
        # A token bucket lets `burst` requests through at once, then `rate` a second, each holding an instance.
        return int(parameters[burst]["Default"]) + int(parameters[rate]["Default"]) * LONGEST_REQUEST_SECONDS

    # Lambda refuses a reservation that leaves the account fewer than 100 unreserved.
    assert api + worker + reconcile <= DEFAULT_ACCOUNT_CONCURRENCY - UNRESERVED_MINIMUM
    # A flood on any one other route, at its limits, beside pings at theirs, never meets a throttled API function.
    assert api >= in_flight("PingRateLimit", "PingBurstLimit") + in_flight("ApiRateLimit", "ApiBurstLimit")


def test_the_api_access_log_is_json_without_credentials_and_kept_for_the_log_retention(
    packaged_template: dict[str, Any],
) -> None:
    resources = packaged_template["Resources"]
    access_log = resources["RestAPI"]["Properties"]["AccessLogSetting"]
    group = resources["ApiAccessLogGroup"]
    fields = json.loads(access_log["Format"])

    assert access_log["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "$context.requestId" in fields.values(), "AWS: the format must include $context.requestId"
    assert {"$context.identity.sourceIp", "$context.resourcePath", "$context.status"} <= set(fields.values())
    assert "$context.error.responseType" in fields.values(), "a THROTTLED answer is told apart from the service's"
    for name, variable in fields.items():
        assert re.fullmatch(r"\$context\.[A-Za-z]+(\.[A-Za-z]+)*", variable), name
        assert not CALLER_DATA.search(variable), f"{name}: {variable} can carry what the caller sent"
    for setting in method_settings(packaged_template).values():
        # Execution logging at INFO with data trace writes whole requests: bodies with addresses, secrets.
        assert not setting.get("DataTraceEnabled", False)
        assert setting.get("LoggingLevel", "OFF") in ("OFF", "ERROR")


def test_api_gateway_is_allowed_to_write_the_access_log_before_the_stage_exists(
    packaged_template: dict[str, Any],
) -> None:
    resources = packaged_template["Resources"]
    account = resources["ApiGatewayAccount"]
    role = resources["ApiGatewayCloudWatchRole"]

    # AWS: REST API logging needs the account's (per region) CloudWatch role; this stack sets it unless given one.
    assert account["Type"] == "AWS::ApiGateway::Account"
    assert account["Properties"]["CloudWatchRoleArn"] == {
        "Fn::If": [
            "CreatesApiGatewayCloudWatchRole",
            {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]},
            {"Ref": "ApiGatewayCloudWatchRoleArn"},
        ]
    }
    assert "ApiGatewayAccount" in resources["RestAPI"]["DependsOn"]
    assert TEMPLATE["Conditions"]["CreatesApiGatewayCloudWatchRole"] == {
        "Fn::Equals": [{"Ref": "ApiGatewayCloudWatchRoleArn"}, ""]
    }
    assert TEMPLATE["Parameters"]["ApiGatewayCloudWatchRoleArn"]["Default"] == ""
    assert role["Condition"] == "CreatesApiGatewayCloudWatchRole"
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]
    # The setting is the account's: deleting this stack must not leave it naming a deleted role.
    assert role["DeletionPolicy"] == "Retain"
