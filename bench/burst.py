"""Launch-day burst: N events through the ping route and the queue worker, against a rate-limited sandbox.

    .venv/bin/python -m bench.burst --rate 15            # 1000 events, sandbox limited to 15 req/s
    .venv/bin/python -m bench.burst --rate 2 --events 1000
    .venv/bin/python -m bench.burst --rate 15 --workers 2 --events 200

The mix: new buyers, returning buyers (a second course), Gumroad re-sends (duplicates) and
refunds. Pings go through ``POST /gumroad/ping`` (queue mode, SQS FIFO through moto), then
``--workers`` workers (the event source's maximum concurrency, 2 in the deployed stages) drain
the queue against the sandbox, each in its own thread with its own Auth0 client and pacer, as
separate Lambda containers would be, pacing at R / workers (AUTH0_RATE_LIMIT_SHARED_BY). The
script reports the table the issue asks for; it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.purchase_support import form_body

ROOT = Path(__file__).resolve().parent.parent
HANDBOOK, MEMBERSHIP = "serverless-handbook", "pro-membership"
PING_SECRET = "bench-ping-secret"


@dataclass
class Buyer:
    email: str
    sales: dict[str, str] = field(default_factory=dict)  # sale_id -> course
    refunded: set[str] = field(default_factory=set)

    def expected_roles(self) -> set[str]:
        return {f"course:{course}" for sale, course in self.sales.items() if sale not in self.refunded}


def sale_id(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(16)).decode()


def plan(events: int, rng: random.Random) -> tuple[list[str], dict[str, Buyer], Counter[str]]:
    """60% new buyers, 15% returning buyers, 10% duplicates, 15% refunds, in arrival order."""
    buyers: dict[str, Buyer] = {}
    pings: list[str] = []
    kinds: Counter[str] = Counter()
    sent: list[tuple[Buyer, str, str]] = []
    while len(pings) < events:
        roll = rng.random()
        if roll < 0.60 or not sent:
            buyer = Buyer(email=f"buyer-{len(buyers):05d}@example.com")
            buyers[buyer.email] = buyer
            sid = sale_id(rng)
            buyer.sales[sid] = HANDBOOK
            ping = form_body("sale", email=buyer.email, sale_id=sid)
            sent.append((buyer, sid, ping))
            kinds["new buyer"] += 1
        elif roll < 0.75:
            candidates = [b for b in buyers.values() if MEMBERSHIP not in b.sales.values()]
            if not candidates:
                continue
            buyer = rng.choice(candidates)
            sid = sale_id(rng)
            buyer.sales[sid] = MEMBERSHIP
            ping = form_body(
                "sale_with_variants",
                email=buyer.email,
                sale_id=sid,
                subscription_id=f"sub-{sid}",
                **{"custom_fields[Company]": None},
            )
            sent.append((buyer, sid, ping))
            kinds["returning buyer"] += 1
        elif roll < 0.85:
            _, _, ping = rng.choice(sent)
            kinds["duplicate"] += 1
        else:
            live = [(b, s) for b, s, _ in sent if s not in b.refunded and b.sales[s] == HANDBOOK]
            if not live:
                continue
            buyer, sid = rng.choice(live)
            buyer.refunded.add(sid)
            ping = form_body("refund", email=buyer.email, sale_id=sid)
            kinds["refund"] += 1
        pings.append(ping)
    return pings, buyers, kinds


def run(events: int, rate: float, seed: int, *, known_rate: bool = True, workers: int = 1) -> dict[str, Any]:
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    from moto import mock_aws

    from sandbox.server import SandboxServer

    rng = random.Random(seed)
    pings, buyers, kinds = plan(events, rng)
    with (
        SandboxServer(
            port=0, catalogue=ROOT / "chalicelib" / "courses.local.json", rate_limit=rate, burst=max(1, int(rate))
        ) as sandbox,
        mock_aws(),
    ):
        import boto3
        from chalice.test import Client

        from app import PING_QUEUE_NAME, app
        from chalicelib import wiring

        sqs = boto3.client("sqs")
        dead = sqs.create_queue(QueueName="bench-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        queue = sqs.create_queue(
            QueueName=PING_QUEUE_NAME, Attributes={"FifoQueue": "true", "VisibilityTimeout": "60"}
        )["QueueUrl"]
        os.environ.update(
            AUTH0_DOMAIN=sandbox.base_url,
            AUTH0_CLIENT_ID=sandbox.client_id,
            AUTH0_CLIENT_SECRET="sandbox-m2m-client-secret-not-a-real-secret",
            GUMROAD_PING_SECRET=PING_SECRET,
            GUMROAD_SELLER_ID="kL0psVL2admJSYRNs-OCMg==",
            COURSES_FILE="chalicelib/courses.local.json",
            PING_QUEUE_URL=queue,
            PING_DEAD_LETTER_QUEUE_URL=dead,
            AUTH0_RATE_LIMIT_PER_SECOND=str(rate) if known_rate else "",
            AUTH0_RATE_LIMIT_BURST=str(max(1, int(rate))) if known_rate else "",
            AUTH0_RATE_LIMIT_SHARED_BY=str(workers),
            BUYER_ONBOARDING="password_reset_email",
        )
        wiring.clear_caches()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(f"gumroad:{PING_SECRET}".encode()).decode(),
        }
        with Client(app, project_dir=str(ROOT / "tests" / "fixtures" / "unit_project")) as client:
            latencies: list[float] = []
            statuses: Counter[int] = Counter()
            for ping in pings:
                started = time.perf_counter()
                statuses[client.http.post("/gumroad/ping", headers=headers, body=ping).status_code] += 1
                latencies.append(time.perf_counter() - started)
            queued = int(
                sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                    "ApproximateNumberOfMessages"
                ]
            )
            sandbox.stats.reset()
            outcomes: Counter[str] = Counter()
            started = time.monotonic()
            drain(sqs, queue, workers=workers, outcomes=outcomes)
            wall = time.monotonic() - started
        stats = sandbox.stats.snapshot()
        users = sandbox.tenant.describe()["users"]
        dead_letters = len(sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", []))

    by_email = Counter(user["email"] for user in users)
    roles = {user["email"]: {role["name"] for role in user["roles"]} for user in users}
    wrong = [email for email, buyer in buyers.items() if roles.get(email, set()) != buyer.expected_roles()]
    calls = int(stats["management_requests"])
    floor = calls / rate
    return {
        "rate": rate,
        "workers": workers,
        "pacing": ("known rate + headers" if known_rate else "headers only")
        + (f", each worker R/{workers}" if known_rate and workers > 1 else ""),
        "events": len(pings),
        "mix": dict(kinds),
        "ping answers": dict(statuses),
        "ping p50 ms": round(statistics.median(latencies) * 1000, 1),
        "ping p99 ms": round(sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "messages queued": queued,
        "worker invocations": dict(outcomes),
        "messages fulfilled": f"{outcomes['ok']} of {queued}",
        "buyers": len(buyers),
        "duplicate users": sum(count - 1 for count in by_email.values() if count > 1),
        "wrong end states": len(wrong),
        "dead letters": dead_letters,
        "management calls": calls,
        "calls per event": round(calls / len(pings), 2),
        "wall s": round(wall, 1),
        "floor s (calls / R)": round(floor, 1),
        "wall / floor": round(wall / floor, 3),
        "429s received": int(stats["rate_limited"]),
    }


def drain(sqs: Any, queue: str, *, workers: int, outcomes: Counter[str]) -> None:
    """Deliver the queue's messages to ``workers`` worker threads, one message per invocation, as
    Lambda's SQS event source does, until nothing is left visible or in flight."""
    from app import app
    from chalicelib import wiring

    containers = threading.local()
    originals = {name: getattr(wiring, name) for name in ("get_directory", "get_fulfilment")}
    for name, accessor in originals.items():
        # Each worker thread is its own Lambda container: its own Auth0 client, token and pacer.
        setattr(wiring, name, per_thread(accessor.__wrapped__, name, containers))
    guard = threading.Lock()
    handler = app.handler_map["process_ping"]

    def worker() -> None:
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=1, AttributeNames=["All"], MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                if queue_is_empty(sqs, queue):
                    return
                time.sleep(0.02)  # another worker holds the only group with messages left
                continue
            outcome = invoke(sqs, queue, messages[0], handler)
            with guard:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=worker, name=f"worker-{index}") for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, accessor in originals.items():
        setattr(wiring, name, accessor)
    wiring.clear_caches()


def invoke(sqs: Any, queue: str, message: Any, handler: Any) -> str:
    """One message, as Lambda's event source delivers it; deleted on success, visible again on failure."""
    from chalice.local import LambdaContext

    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue.rsplit('/', 1)[-1]}",
        "awsRegion": "us-east-1",
    }
    try:
        handler({"Records": [record]}, LambdaContext("process_ping", memory_size=512))
    except Exception:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        return "failed invocation"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return "ok"


def per_thread(build: Any, name: str, containers: threading.local) -> Any:
    def built() -> Any:
        if not hasattr(containers, name):
            setattr(containers, name, build())
        return getattr(containers, name)

    return built


def queue_is_empty(sqs: Any, queue: str) -> bool:
    counts = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"]) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, action="append", help="sandbox rate limit R (repeatable); default 15")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="workers draining the queue at once (default 1)")
    parser.add_argument(
        "--headers-only", action="store_true", help="pace from x-ratelimit-* alone (AUTH0_RATE_LIMIT_* unset)"
    )
    args = parser.parse_args()
    for rate in args.rate or [15.0]:
        result = run(args.events, rate, args.seed, known_rate=not args.headers_only, workers=args.workers)
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
