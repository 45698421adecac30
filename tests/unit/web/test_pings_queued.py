"""``POST /gumroad/ping`` in a deployed stage: validate as before, then queue (SQS FIFO through moto)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import wiring
from chalicelib.purchases.events import SaleEvent
from chalicelib.purchases.queue import decode_event
from tests.chalice_client import app_client
from tests.purchase_support import form_body, recorded_body, set_purchase_env
from tests.unit.web.test_pings import FORM, basic

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Deployed:
    client: Client
    sqs: SQSClient
    queue_url: str

    def ping(self, body: str) -> Any:
        from tests.purchase_support import PING_SECRET

        return self.client.http.post("/gumroad/ping", headers={**FORM, **basic(PING_SECRET)}, body=body)

    def queued(self) -> list[Any]:
        answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
        return list(answer.get("Messages", []))


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="gumroad-auth0-gate-pings.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        set_purchase_env(monkeypatch, PING_QUEUE_URL=url)
        wiring.clear_caches()
        with app_client() as client:
            yield Deployed(client, sqs, url)
        wiring.clear_caches()


def test_a_sale_is_queued_for_the_worker_and_answered_at_once(deployed: Deployed) -> None:
    response = deployed.ping(recorded_body("sale"))

    assert response.status_code == 200
    assert json.loads(response.body) == {"status": "queued", "event": "sale", "course": "serverless-handbook"}
    [message] = deployed.queued()
    queued = decode_event(message["Body"])
    assert isinstance(queued, SaleEvent)
    assert queued.sale_id == "FO8TXN-dbxYaBdahG97Y-Q=="


def test_a_resent_ping_is_queued_once(deployed: Deployed) -> None:
    deployed.ping(recorded_body("sale"))
    deployed.ping(recorded_body("sale") + "&retry_count=1")

    assert len(deployed.queued()) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (recorded_body("test_ping"), "test_ping"),
        (form_body("refund", refunded="false"), "partial_refund"),
        (recorded_body("cancellation"), "no_access_change"),
        (
            form_body("sale", product_id="nope", permalink="nope", short_product_id="nope", product_permalink="nope"),
            "unknown_product",
        ),
    ],
)
def test_what_needs_no_auth0_is_answered_without_queueing(deployed: Deployed, body: str, reason: str) -> None:
    response = deployed.ping(body)

    assert json.loads(response.body)["reason"] == reason
    assert deployed.queued() == []


def test_a_ping_the_queue_cannot_take_is_503_so_gumroad_redelivers(deployed: Deployed) -> None:
    deployed.sqs.delete_queue(QueueUrl=deployed.queue_url)

    response = deployed.ping(recorded_body("sale"))

    assert response.status_code == 503
    assert json.loads(response.body)["error"] == "upstream_unavailable"


def test_bad_input_is_still_refused_before_anything_is_queued(deployed: Deployed) -> None:
    assert deployed.ping(form_body("sale", seller_id="other0000000000000000==")).status_code == 403
    assert deployed.ping(form_body("sale", sale_id=None)).status_code == 400
    assert deployed.queued() == []


_PROBE = """
import json, sys
from moto import mock_aws
with mock_aws():
    import boto3
    url = boto3.client("sqs").create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    import os
    os.environ["PING_QUEUE_URL"] = url
    from tests.chalice_client import app_client
    from tests.purchase_support import PING_SECRET, recorded_body
    from tests.unit.web.test_pings import FORM, basic
    with app_client() as client:
        answer = client.http.post("/gumroad/ping", headers={**FORM, **basic(PING_SECRET)}, body=recorded_body("sale"))
    print(json.dumps({"status": answer.status_code, "auth0": "auth0" in sys.modules}))
"""


def test_the_queueing_route_never_loads_auth0_python() -> None:
    from tests.purchase_support import PURCHASE_ENV

    env = {
        **os.environ,
        **PURCHASE_ENV,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"status": 200, "auth0": False}
