"""`make run` (`python -m devstack`): serve the local stack until Ctrl-C, after printing what to try first."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType

from devstack.stack import DEFAULT_SERVICE_PORT, LocalStage, Stack, start_stack


def next_steps(stack: Stack, stage: LocalStage) -> str:
    ping = f"{stack.service_url}/gumroad/ping"
    servers = "all four servers" if stack.spa_url else "the three servers"
    return f"""
  Auth0 sandbox   {stack.sandbox_url}   (state in .sandbox/state.json; dev views under /sandbox/)
  Lessons (S3)    {stack.content_url}   (devstack.s3: bucket {stage.content.bucket} from content/, signatures checked)
  Service         {stack.service_url}   (chalice local, stage "local"){_spa_lines(stack)}

  1. Send a realistic Gumroad sale (the secret travels as the Basic password, as Gumroad sends URL userinfo):
       curl -s -u gumroad:{stage.ping_secret} -H 'Content-Type: application/x-www-form-urlencoded' \\
         --data-binary @tests/fixtures/gumroad/sale.form {ping}
  2. Get an access token for the buyer the ping created:
       TOKEN=$(.venv/bin/python -m sandbox token customer@example.com)
  3. List the courses that token opens, then open one: its lessons, each with a pre-signed URL to the local S3
       curl -s -H "Authorization: Bearer $TOKEN" {stack.service_url}/courses
       curl -s -H "Authorization: Bearer $TOKEN" {stack.service_url}/courses/serverless-handbook
  4. Refund it, then ask again with a new token (a token keeps its permissions until it expires):
       curl -s -u gumroad:{stage.ping_secret} -H 'Content-Type: application/x-www-form-urlencoded' \\
         --data-binary @tests/fixtures/gumroad/refund.form {ping}

  `make demo` runs this whole journey by itself. Ctrl-C stops {servers}.
"""


def _spa_lines(stack: Stack) -> str:
    if stack.spa_url is None:
        return ""
    return f"""
  Example SPA     {stack.spa_url}   (spa/, Vite dev server: open it in a browser)

  In a browser: send the sale (1 below), open the set-password link in the sandbox's outbox
  ({stack.sandbox_url}/sandbox/outbox), choose a password, then sign in at {stack.spa_url}."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_SERVICE_PORT, help="port of chalice local (default 8000)")
    parser.add_argument(
        "--no-spa", action="store_true", help="serve the sandbox, the local S3 and the service, without the SPA"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:
        stack = start_stack(service_port=args.port, with_spa=not args.no_spa)
    except (RuntimeError, OSError) as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    try:
        print(next_steps(stack, LocalStage.read()), flush=True)
        while all(process.poll() is None for process in stack.processes):
            time.sleep(0.5)
        print("make run: a server stopped; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nmake run: stopping the servers", file=sys.stderr)
        return 0
    finally:
        stack.stop()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
