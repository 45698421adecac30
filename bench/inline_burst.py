"""Inline burst: new buyers' sales delivered N at a time to `chalice local` against a rate-limited sandbox.

    .venv/bin/python -m bench.inline_burst --rate 5 --rate 2            # 30 buyers, 6 at a time
    .venv/bin/python -m bench.inline_burst --rate 5 --known-rate        # AUTH0_RATE_LIMIT_PER_SECOND = R

Inline processing is what the `local` stage does (no queue): every ping is fulfilled inside its
request, under the ping deadline, so concurrent pings share the process's pacer. Each buyer's
sale is delivered as Gumroad delivers: a 499/500/502/503/504 is redelivered (with
``retry_count``) up to three times; Gumroad's 60-600 s between attempts are compressed to
``--redelivery-pause``. The floor is what the tenant allows at best: 3 Management API calls per
new buyer (lookup, create, assign role) divided by R. It is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.integration.harness import GUMROAD_RETRY_STATUSES, ChaliceLocal, chalice_local, new_sale_id
from tests.purchase_support import form_body

ROOT = Path(__file__).resolve().parent.parent
CALLS_PER_NEW_BUYER = 3
ROLE = "course:serverless-handbook"


def deliver(local: ChaliceLocal, body: str, *, attempts: int, pause: float) -> list[int]:
    statuses: list[int] = []
    for attempt in range(attempts):
        statuses.append(local.ping(body if attempt == 0 else f"{body}&retry_count={attempt}").status_code)
        if statuses[-1] not in GUMROAD_RETRY_STATUSES:
            break
        time.sleep(pause)
    return statuses


def run(*, buyers: int, concurrency: int, rate: float, known_rate: bool, pause: float) -> dict[str, Any]:
    from sandbox.server import SandboxServer

    burst = max(1, int(rate))
    emails = [f"inline-{index:03d}@example.com" for index in range(buyers)]
    bodies = [form_body("sale", email=email, sale_id=new_sale_id()) for email in emails]
    environment = {"AUTH0_RATE_LIMIT_PER_SECOND": str(rate), "AUTH0_RATE_LIMIT_BURST": str(burst)} if known_rate else {}
    with (
        tempfile.TemporaryDirectory() as scratch,
        SandboxServer(
            port=0, state_path=None, catalogue=ROOT / "chalicelib" / "courses.local.json", rate_limit=rate, burst=burst
        ) as sandbox,
        chalice_local(sandbox, Path(scratch), environment=environment) as local,
    ):
        sandbox.stats.reset()
        time.sleep(burst / rate)  # the tenant's bucket starts full, as it would after a quiet minute
        in_flight, peak = 0, 0
        guard = threading.Lock()

        def one(body: str) -> list[int]:
            nonlocal in_flight, peak
            with guard:
                in_flight += 1
                peak = max(peak, in_flight)
            try:
                return deliver(local, body, attempts=4, pause=pause)
            finally:
                with guard:
                    in_flight -= 1

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            deliveries = list(pool.map(one, bodies))
        wall = time.monotonic() - started
        stats = sandbox.stats.snapshot()
        users = sandbox.tenant.describe()["users"]

    per_email = Counter(user["email"] for user in users)
    served = {user["email"] for user in users if any(role["name"] == ROLE for role in user["roles"])}
    calls = int(stats["management_requests"])
    floor = buyers * CALLS_PER_NEW_BUYER / rate
    answers = Counter(status for statuses in deliveries for status in statuses)
    return {
        "R (req/s)": rate,
        "pacing": "known rate + headers" if known_rate else "headers only (local stage)",
        "buyers": buyers,
        "concurrency": f"{concurrency} (peak {peak})",
        "lost (no role after Gumroad's 4 attempts)": len([email for email in emails if email not in served]),
        "duplicate users": sum(count - 1 for count in per_email.values() if count > 1),
        "ping answers": dict(sorted(answers.items())),
        "redelivered pings": sum(1 for statuses in deliveries if len(statuses) > 1),
        "management calls": calls,
        "429s": int(stats["rate_limited"]),
        "429 share": f"{100 * int(stats['rate_limited']) / max(1, calls):.1f} %",
        "wall s": round(wall, 1),
        "floor s (3 x buyers / R)": round(floor, 1),
        "wall / floor": round(wall / floor, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--rate", type=float, action="append", help="sandbox rate limit R (repeatable); default 5")
    parser.add_argument("--known-rate", action="store_true", help="set AUTH0_RATE_LIMIT_PER_SECOND/BURST to R")
    parser.add_argument(
        "--redelivery-pause", type=float, default=1.0, help="seconds between Gumroad's attempts (really 60-600)"
    )
    args = parser.parse_args()
    for rate in args.rate or [5.0]:
        result = run(
            buyers=args.buyers,
            concurrency=args.concurrency,
            rate=rate,
            known_rate=args.known_rate,
            pause=args.redelivery_pause,
        )
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
