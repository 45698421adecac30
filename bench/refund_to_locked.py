"""Measure how long a refund takes to lock the course in the example SPA (prints numbers; not a test).

Run from the repository root (needs /usr/bin/chromium and spa/node_modules, as the browser tests do)::

    .venv/bin/python -m bench.refund_to_locked [--runs 4] [--lifetime 90] [--student returns|idle]

Each run is a new buyer, end to end on 127.0.0.1: a Gumroad sale ping to `chalice local`, a password chosen on
the sandbox's set-password page, sign-in through the SPA in headless Chromium, the course opened. The refund
ping lands at evenly spread points of the access token's useful life (auth0-spa-js reuses a token until 60 s
before it expires), and the clock runs from the refund's answer until the open course page says
"Access removed".

- ``returns``: the student comes back to the tab every second (a focus event), so the number is the time
  until the SDK renews the token;
- ``idle``: the student does nothing; the SPA's own re-check (every 30 s while visible) finds it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from sandbox.defaults import LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS, SPA_EXPIRY_LEEWAY_SECONDS
from tests.browser.stack import Stack, browser_stack, launch_chromium
from tests.browser.student import Screenshots, Student
from tests.integration.harness import gumroad_body, new_sale_id

PASSWORD = "correct horse battery staple"
COURSE = "Serverless Handbook"


def one_run(stack: Stack, browser: Browser, shots: Path, *, number: int, offset: float, idle: bool) -> float:
    """Seconds from the refund's answer to "Access removed" on the open course page."""
    buyer, sale_id = f"bench-refund-{number}-{time.time_ns()}@example.com", new_sale_id()
    assert stack.service.ping(gumroad_body("sale", email=buyer, sale_id=sale_id)).status_code == 200
    context = browser.new_context()
    try:
        student = Student(page=context.new_page(), spa_url=stack.spa_url, shots=Screenshots(shots / str(number)))
        student.shots.folder.mkdir(parents=True)
        student.set_password(stack.outbox_link(buyer), PASSWORD)
        student.sign_in(buyer, PASSWORD)  # the access token is issued here
        signed_in = time.monotonic()
        student.open_course(COURSE)
        time.sleep(max(0.0, signed_in + offset - time.monotonic()))
        assert stack.service.ping(gumroad_body("refund", email=buyer, sale_id=sale_id)).status_code == 200
        refunded = time.monotonic()
        locked = student.page.get_by_test_id("course-locked")
        deadline = refunded + 3 * stack.sandbox.access_token_lifetime
        while not locked.is_visible():
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {number}: still open {deadline - refunded:.0f} s after the refund")
            if not idle:
                student.come_back_to_tab()
            student.page.wait_for_timeout(250 if idle else 1_000)
        return time.monotonic() - refunded
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--lifetime", type=int, default=LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS, help="access tokens, s")
    parser.add_argument("--student", choices=("returns", "idle"), default="returns")
    args = parser.parse_args()
    useful = max(0, args.lifetime - SPA_EXPIRY_LEEWAY_SECONDS)
    idle = args.student == "idle"
    print(f"access tokens live {args.lifetime} s; the SDK uses each for {useful} s; student {args.student}")
    results: list[float] = []
    with tempfile.TemporaryDirectory() as work, sync_playwright() as driver:
        browser = launch_chromium(driver)
        with browser_stack(Path(work) / "stack", access_token_lifetime=args.lifetime) as stack:
            for number in range(args.runs):
                offset = useful * number / args.runs
                seconds = one_run(stack, browser, Path(work) / "shots", number=number, offset=offset, idle=idle)
                results.append(seconds)
                print(
                    f"  run {number + 1}: refund {offset:5.1f} s into the token's use -> locked after {seconds:5.1f} s"
                )
        browser.close()
    print(
        f"refund -> locked: min {min(results):.1f} s, median {statistics.median(results):.1f} s, "
        f"max {max(results):.1f} s over {len(results)} runs"
    )


if __name__ == "__main__":
    main()
