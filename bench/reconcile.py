"""What a reconciliation run costs: Gumroad API pages, queued events, and the worker's Management API calls.

    .venv/bin/python -m bench.reconcile                  # 200 sales: 20 pings missed, 20 refunds missed
    .venv/bin/python -m bench.reconcile --sales 1000 --missed 50 --refunds-missed 50

The Sales API (the recorded shape of tests/fixtures/gumroad_api/sale.json, ten sales a page, newest first,
``next_page_key``) lists ``--sales`` sales of the handbook over the last 30 days: some whose sale ping never
came, some refunded whose refund ping never came, some refunded and already applied, the rest already
granted. The service first receives the pings that did come (ping route -> SQS FIFO through moto ->
worker -> the Auth0 sandbox), then the scheduled function runs twice, 30 minutes apart, and the worker
drains the queue after each. It reports, per run, what was sent and the Management API calls the worker
made (the sandbox counts them); the time a free tenant needs for them is calls / 2 req/s. A measurement,
not a test.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.purchase_support import form_body

ROOT = Path(__file__).resolve().parent.parent
PING_SECRET = "bench-ping-secret"
PRODUCT = "32-nPAicqbLj8B_WswVlMw=="
PING_URL = "https://bench.execute-api.us-east-1.amazonaws.com/api/gumroad/ping"
NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
FREE_TENANT_RATE = 2.0


def listed_sales(count: int, missed: int, refunds_missed: int, refunds_applied: int, rng: random.Random) -> list[Any]:
    """The Sales API's view (newest first) and, per sale, what the service already saw."""
    recorded = json.loads((ROOT / "tests" / "fixtures" / "gumroad_api" / "sale.json").read_text(encoding="utf-8"))
    sales = []
    for number in range(count):
        sale = copy.deepcopy(recorded)
        created = NOW - timedelta(days=30) + timedelta(seconds=rng.randrange(30 * 86400 - 3600))
        email = f"buyer-{number:05d}@example.com"
        sale.update(
            id=base64.urlsafe_b64encode(rng.randbytes(16)).decode(),
            email=email,
            purchase_email=email,
            created_at=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            order_id=500000 + number,
        )
        if number < missed:
            seen = "nothing"
        elif number < missed + refunds_missed:
            sale["refunded"], seen = True, "sale"
        elif number < missed + refunds_missed + refunds_applied:
            sale["refunded"], seen = True, "sale+refund"
        else:
            seen = "sale"
        sales.append((sale, seen))
    sales.sort(key=lambda pair: pair[0]["created_at"], reverse=True)
    return sales


class SalesApi:
    def __init__(self, sales: list[dict[str, Any]]) -> None:
        self.sales = sales
        self.requests = 0

    def answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.requests += 1
        query = dict(parse_qsl(urlsplit(request.url).query))
        if query["product_id"] != PRODUCT:
            return 200, {}, json.dumps({"success": True, "sales": []})
        start = int(query.get("page_key", "0"))
        page = self.sales[start : start + 10]
        body: dict[str, Any] = {"success": True, "sales": page}
        if start + 10 < len(self.sales):
            body["next_page_key"] = str(start + 10)
        return 200, {}, json.dumps(body)

    def subscriptions(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.requests += 1
        resource = dict(parse_qsl(urlsplit(request.url).query))["resource_name"]
        post_url = PING_URL.replace("https://", "https://gumroad:secret@")
        items = [{"id": resource, "resource_name": resource, "post_url": post_url}]
        return 200, {}, json.dumps({"success": True, "resource_subscriptions": items})


def run(count: int, missed: int, refunds_missed: int, refunds_applied: int, seed: int) -> dict[str, Any]:
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    import responses
    from moto import mock_aws

    from sandbox.server import SandboxServer

    rng = random.Random(seed)
    plan = listed_sales(count, missed, refunds_missed, refunds_applied, rng)
    api = SalesApi([sale for sale, _ in plan])
    with SandboxServer(port=0, catalogue=ROOT / "chalicelib" / "courses.local.json") as sandbox, mock_aws():
        import boto3
        from chalice.test import Client

        from app import PING_QUEUE_NAME, app
        from chalicelib import wiring

        sqs = boto3.client("sqs")
        dead = sqs.create_queue(QueueName="bench-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        queue = sqs.create_queue(QueueName=PING_QUEUE_NAME, Attributes={"FifoQueue": "true"})["QueueUrl"]
        boto3.client("ssm").put_parameter(Name="/bench/watermark", Value="not-yet-run", Type="String")
        os.environ.update(
            AUTH0_DOMAIN=sandbox.base_url,
            AUTH0_CLIENT_ID=sandbox.client_id,
            AUTH0_CLIENT_SECRET="sandbox-m2m-client-secret-not-a-real-secret",
            GUMROAD_PING_SECRET=PING_SECRET,
            GUMROAD_SELLER_ID="kL0psVL2admJSYRNs-OCMg==",
            COURSES_FILE="chalicelib/courses.local.json",
            PING_QUEUE_URL=queue,
            PING_DEAD_LETTER_QUEUE_URL=dead,
            BUYER_ONBOARDING="none",
            GUMROAD_ACCESS_TOKEN="bench-gumroad-token",
            RECONCILE_WATERMARK_PARAMETER="/bench/watermark",
            GUMROAD_PING_URL=PING_URL,
        )
        wiring.clear_caches()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(f"gumroad:{PING_SECRET}".encode()).decode(),
        }
        with (
            Client(app, project_dir=str(ROOT / "tests" / "fixtures" / "unit_project")) as client,
            responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        ):
            mock.add_passthru("http://127.0.0.1")
            mock.add_callback(responses.GET, "https://api.gumroad.com/v2/sales", callback=api.answer)
            mock.add_callback(
                responses.GET, "https://api.gumroad.com/v2/resource_subscriptions", callback=api.subscriptions
            )

            def drain() -> Counter[str]:
                outcomes: Counter[str] = Counter()
                while True:
                    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, AttributeNames=["All"])
                    if not messages.get("Messages"):
                        return outcomes
                    message = messages["Messages"][0]
                    record = {
                        "messageId": message["MessageId"],
                        "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"],
                        "attributes": message["Attributes"],
                        "messageAttributes": {},
                        "eventSource": "aws:sqs",
                        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{PING_QUEUE_NAME}",
                    }
                    client.lambda_.invoke("process_ping", {"Records": [record]})
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                    outcomes[json.loads(message["Body"])["event"]["resource_name"]] += 1

            for sale, seen in plan:
                if seen != "nothing":
                    client.http.post("/gumroad/ping", headers=headers, body=ping(sale, "sale"))
                if seen == "sale+refund":
                    client.http.post("/gumroad/ping", headers=headers, body=ping(sale, "refund"))
            drain()
            runs = []
            for label, at in (("first run", NOW), ("second run, 30 min later", NOW + timedelta(minutes=30))):
                sandbox.stats.reset()
                api.requests = 0
                started = time.monotonic()
                report = wiring.run_reconciliation(now=at)
                assert report is not None, "the bench gives the run a Gumroad token"
                reconcile_s = time.monotonic() - started
                started = time.monotonic()
                applied = drain()
                worker_s = time.monotonic() - started
                stats = sandbox.stats.snapshot()
                calls = int(stats["management_requests"])
                writes = sum(
                    count
                    for endpoint, count in stats["requests"].items()
                    if not endpoint.startswith("GET ") and endpoint != "POST /oauth/token"
                )
                runs.append(
                    {
                        "run": label,
                        "sales read": report.sales_read,
                        "Gumroad API requests": api.requests,
                        "sent by kind": dict(report.by_kind()),
                        "live sales already checked": report.already_checked,
                        "messages the worker applied": sum(applied.values()),
                        "management calls": calls,
                        "management writes": writes,
                        "calls per applied message": round(calls / max(1, sum(applied.values())), 2),
                        "free tenant floor s (calls / 2)": round(calls / FREE_TENANT_RATE, 1),
                        "reconcile run s (in-process)": round(reconcile_s, 2),
                        "worker drain s (unthrottled sandbox)": round(worker_s, 1),
                    }
                )
        users = {user["email"]: {role["name"] for role in user["roles"]} for user in sandbox.tenant.describe()["users"]}
        dead_letters = len(sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", []))
    wrong = [
        sale["purchase_email"]
        for sale, _ in plan
        if users.get(sale["purchase_email"], set())
        != (set() if sale.get("refunded") else {"course:serverless-handbook"})
    ]
    return {
        "sales": count,
        "pings missed": missed,
        "refund pings missed": refunds_missed,
        "refunds already applied": refunds_applied,
        "runs": runs,
        "wrong end states": len(wrong),
        "dead letters": dead_letters,
    }


def ping(sale: dict[str, Any], resource: str) -> str:
    return form_body(
        "sale" if resource == "sale" else "refund",
        email=sale["purchase_email"],
        sale_id=sale["id"],
        sale_timestamp=sale["created_at"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--missed", type=int, default=20, help="sales whose ping never came")
    parser.add_argument("--refunds-missed", type=int, default=20, help="refunded sales whose refund ping never came")
    parser.add_argument("--refunds-applied", type=int, default=10, help="refunded sales whose refund ping came")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.sales, args.missed, args.refunds_missed, args.refunds_applied, args.seed)
    print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
