"""The deployed path: ping -> SQS FIFO (moto) -> worker (chalice.test.Client) -> the Auth0 sandbox over HTTP."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from botocore.exceptions import ClientError
from chalice.test import Client
from moto import mock_aws

from app import PING_QUEUE_NAME
from chalicelib import wiring
from sandbox.http.faults import parse_fault
from sandbox.server import SandboxServer
from tests.chalice_client import app_client
from tests.integration.harness import (
    HANDBOOK,
    MEMBERSHIP,
    basic_auth,
    gumroad_body,
    new_sale_id,
    service_environment,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_RECEIVES = 5


class WorkerKilled(BaseException):
    """The Lambda dying mid-message: nothing after this point runs, nothing is acknowledged."""


class KillingTransport(httpx.BaseTransport):
    """Passes requests to the sandbox and kills the worker right after the Nth Management API answer."""

    def __init__(self, kill_after: int | None = None) -> None:
        self._inner = httpx.HTTPTransport()
        self.kill_after = kill_after
        self.answered = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        self.answered += 1
        if self.kill_after is not None and self.answered == self.kill_after:
            self.kill_after = None
            response.read()
            raise WorkerKilled(f"killed after Management API answer #{self.answered}")
        return response


@dataclass
class Deployment:
    client: Client
    sqs: SQSClient
    queue_url: str
    dead_letter_url: str
    sandbox: SandboxServer
    transport: KillingTransport
    invocations: list[str] = field(default_factory=list)

    def ping(self, body: str) -> Any:
        return self.client.http.post("/gumroad/ping", headers=basic_auth(), body=body)

    def work_once(self, *, acknowledge: bool = True) -> str | None:
        """Deliver the next visible message to the worker as Lambda's event source would.

        Success deletes it; a failure leaves it for redelivery, and the test's clock then
        jumps over the backoff the worker asked for (its visibility is reset to 0).
        """
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=1, AttributeNames=["All"], MessageAttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        if not messages:
            return None
        message = messages[0]
        event = {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": message["Attributes"],
                    "messageAttributes": {
                        name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType")}
                        for name, value in message.get("MessageAttributes", {}).items()
                    },
                    "md5OfBody": message["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{PING_QUEUE_NAME}",
                    "awsRegion": "us-east-1",
                }
            ]
        }
        try:
            self.client.lambda_.invoke("process_ping", event)
        except WorkerKilled:
            outcome = "killed"
        except Exception as error:
            outcome = f"failed:{type(error).__name__}"
        else:
            outcome = "ok"
            if acknowledge:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        if outcome != "ok" or not acknowledge:
            self._time_passes(message["ReceiptHandle"])
        self.invocations.append(outcome)
        return outcome

    def drain(self, limit: int = 40) -> list[str]:
        for _ in range(limit):
            if self.work_once() is None:
                break
        return self.invocations

    def dead_letters(self) -> list[Any]:
        answer = self.sqs.receive_message(
            QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
        )
        return list(answer.get("Messages", []))

    def users_with(self, email: str) -> list[dict[str, Any]]:
        return [user for user in self.sandbox.tenant.describe()["users"] if user["email"] == email]

    def _time_passes(self, receipt_handle: str) -> None:
        with contextlib.suppress(ClientError):  # moved to the dead-letter queue already
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
            )


@pytest.fixture
def deployment(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        sqs = boto3.client("sqs")
        dead = sqs.create_queue(QueueName="gumroad-auth0-gate-pings-dlq.fifo", Attributes={"FifoQueue": "true"})
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(MAX_RECEIVES)})
        main = sqs.create_queue(
            QueueName=PING_QUEUE_NAME,
            Attributes={"FifoQueue": "true", "VisibilityTimeout": "120", "RedrivePolicy": redrive},
        )
        environment = {
            **service_environment(sandbox),
            "PING_QUEUE_URL": main["QueueUrl"],
            "PING_DEAD_LETTER_QUEUE_URL": dead["QueueUrl"],
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AUTH0_SECRET_ID", raising=False)
        transport = KillingTransport()
        wiring.use_auth0_transport(transport)
        with app_client() as client:
            yield Deployment(client, sqs, main["QueueUrl"], dead["QueueUrl"], sandbox, transport)
        wiring.use_auth0_transport(None)


def role_names(deployment: Deployment, email: str) -> list[str]:
    [user] = deployment.users_with(email)
    return sorted(role["name"] for role in user["roles"])


def test_a_queued_sale_is_fulfilled_by_the_worker(deployment: Deployment) -> None:
    answer = deployment.ping(gumroad_body("sale", email="queued@example.com", sale_id=new_sale_id()))

    assert json.loads(answer.body)["status"] == "queued"
    assert deployment.users_with("queued@example.com") == [], "nothing happens in the request itself"
    assert deployment.drain() == ["ok"]
    assert role_names(deployment, "queued@example.com") == [f"course:{HANDBOOK}"]


# --- crash safety --------------------------------------------------------------------------------

NEW_BUYER_STEPS = {1: "after the lookup", 2: "after the user was created", 3: "after the role was assigned"}


@pytest.mark.parametrize("kill_after", sorted(NEW_BUYER_STEPS), ids=list(NEW_BUYER_STEPS.values()))
def test_a_worker_killed_during_a_new_buyers_sale_leaves_nothing_half_done(
    deployment: Deployment, kill_after: int
) -> None:
    deployment.ping(gumroad_body("sale", email="crash@example.com", sale_id=new_sale_id()))
    deployment.transport.kill_after = kill_after

    assert deployment.drain() == ["killed", "ok"]

    assert len(deployment.users_with("crash@example.com")) == 1
    assert role_names(deployment, "crash@example.com") == [f"course:{HANDBOOK}"]
    record = deployment.users_with("crash@example.com")[0]["app_metadata"][f"gumroad_{HANDBOOK}"]
    assert [purchase["status"] for purchase in record["purchases"]] == ["active"]


@pytest.mark.parametrize("kill_after", [1, 2, 3], ids=["after-lookup", "after-role-change", "after-record-saved"])
@pytest.mark.parametrize("change", ["second-course", "refund"])
def test_a_worker_killed_during_a_returning_buyers_event_leaves_nothing_half_done(
    deployment: Deployment, kill_after: int, change: str
) -> None:
    sale_id = new_sale_id()
    deployment.ping(gumroad_body("sale", email="calvin@example.com", sale_id=sale_id))
    assert deployment.drain() == ["ok"]
    if change == "refund":
        deployment.ping(gumroad_body("refund", email="calvin@example.com", sale_id=sale_id))
        expected = []
    else:
        deployment.ping(gumroad_body("sale_with_variants", email="calvin@example.com"))
        expected = sorted([f"course:{HANDBOOK}", f"course:{MEMBERSHIP}"])
    deployment.transport.kill_after = deployment.transport.answered + kill_after

    assert deployment.drain() == ["ok", "killed", "ok"]

    assert role_names(deployment, "calvin@example.com") == expected
    assert len(deployment.users_with("calvin@example.com")) == 1


# --- failure injection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "count": 6, "paths": "/api/v2/"},
        {"status": 503, "count": 3, "paths": "/api/v2/users/", "method": "POST"},
        {"status": 429, "count": 12, "paths": "/api/v2/"},
        {"status": None, "delay_seconds": 3.0, "count": 4, "paths": "/api/v2/"},
    ],
    ids=["500s-for-a-stretch", "role-assignment-503s", "429-storm", "timeouts"],
)
def test_auth0_failures_for_a_while_end_with_the_purchase_fulfilled(
    deployment: Deployment, fault: dict[str, Any]
) -> None:
    deployment.sandbox.faults.add(parse_fault(fault))
    deployment.ping(gumroad_body("sale", email="outage@example.com", sale_id=new_sale_id()))

    outcomes = deployment.drain()

    assert outcomes[-1] == "ok"
    assert all(outcome.startswith("failed:") for outcome in outcomes[:-1])
    assert len(outcomes) <= MAX_RECEIVES, "fulfilled before the redrive policy gives up"
    assert role_names(deployment, "outage@example.com") == [f"course:{HANDBOOK}"]
    assert deployment.dead_letters() == []


def test_secrets_manager_throttling_delays_but_loses_nothing(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    secrets = boto3.client("secretsmanager")
    secrets.create_secret(
        Name="gumroad-auth0-gate/test",
        SecretString=json.dumps(
            {
                "client_id": deployment.sandbox.client_id,
                "client_secret": "sandbox-m2m-client-secret-not-a-real-secret",
                "gumroad_ping_secret": "integration-ping-secret",
            }
        ),
    )
    throttles = {"left": 2}

    class ThrottledSecrets:
        def get_secret_value(self, **kwargs: Any) -> Any:
            if throttles["left"]:
                throttles["left"] -= 1
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetSecretValue"
                )
            return secrets.get_secret_value(**kwargs)

    monkeypatch.setattr("chalicelib.aws.secrets.secrets_manager_client", ThrottledSecrets)
    monkeypatch.setenv("AUTH0_SECRET_ID", "gumroad-auth0-gate/test")
    wiring.clear_caches()

    first = deployment.ping(gumroad_body("sale", email="secrets@example.com", sale_id=new_sale_id()))
    assert first.status_code == 503, "throttled while authenticating the ping: Gumroad redelivers"
    assert deployment.ping(gumroad_body("sale", email="secrets@example.com", sale_id=new_sale_id())).status_code == 503
    assert deployment.ping(gumroad_body("sale", email="secrets@example.com", sale_id=new_sale_id())).status_code == 200
    assert deployment.drain() == ["ok"]
    assert role_names(deployment, "secrets@example.com") == [f"course:{HANDBOOK}"]


def test_a_failing_onboarding_email_is_reported_and_the_purchase_completes(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    deployment.sandbox.faults.add(parse_fault({"status": 500, "count": 1, "paths": "/dbconnections/"}))
    deployment.ping(gumroad_body("sale", email="no-mail@example.com", sale_id=new_sale_id()))

    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        assert deployment.drain() == ["ok"]

    assert role_names(deployment, "no-mail@example.com") == [f"course:{HANDBOOK}"]
    worker_lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.ping"]
    assert "onboarding_failed" in worker_lines[-1]["changes"]
    assert '"event":"onboarding_refused"' in caplog.text


def test_a_malformed_message_is_dead_lettered_and_the_next_one_is_unaffected(deployment: Deployment) -> None:
    deployment.sqs.send_message(
        QueueUrl=deployment.queue_url, MessageBody="{garbage", MessageGroupId="g", MessageDeduplicationId="garbage"
    )
    deployment.ping(gumroad_body("sale", email="after-garbage@example.com", sale_id=new_sale_id()))

    assert deployment.drain() == ["ok", "ok"]

    [dead] = deployment.dead_letters()
    assert dead["Body"] == "{garbage"
    assert dead["MessageAttributes"]["reason"]["StringValue"].startswith("malformed_message")
    assert role_names(deployment, "after-garbage@example.com") == [f"course:{HANDBOOK}"]


def test_a_role_missing_in_auth0_is_dead_lettered_at_once_with_the_reason(deployment: Deployment) -> None:
    deployment.sandbox.tenant.roles.pop("rol_LocalServerless01")
    deployment.ping(gumroad_body("sale", email="no-role@example.com", sale_id=new_sale_id()))

    assert deployment.drain() == ["ok"]

    [dead] = deployment.dead_letters()
    assert "rol_LocalServerless01" in dead["MessageAttributes"]["reason"]["StringValue"]


def test_redelivering_a_completed_event_has_no_effect(deployment: Deployment) -> None:
    deployment.ping(gumroad_body("sale", email="done@example.com", sale_id=new_sale_id()))
    # The worker finishes but its acknowledgement is lost: SQS delivers the message again.
    assert deployment.work_once(acknowledge=False) == "ok"
    before = dict(deployment.sandbox.stats.snapshot()["requests"])

    assert deployment.drain() == ["ok", "ok"]

    after = deployment.sandbox.stats.snapshot()["requests"]
    delta = {key: count - before.get(key, 0) for key, count in after.items() if count != before.get(key, 0)}
    assert delta == {"GET /api/v2/users-by-email": 1, "GET /api/v2/users/{id}/roles": 1}, "reads only, no write"
    assert role_names(deployment, "done@example.com") == [f"course:{HANDBOOK}"]
