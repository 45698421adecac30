"""What running the post-login Action costs a sandbox login (prints numbers; not a test).

Run from the repository root::

    .venv/bin/python -m bench.post_login_action [--logins 40] [--concurrent 20]

Whole logins through ``devstack.oidc_client`` (``/authorize``, the login page, the code exchange), against a
sandbox with no Action bound and against one running ``actions/post-login.js``, whose service is a loopback
stub answering ``{"result": "none"}`` at once: the difference is the Action runner and the Action's one call,
not the service's work. Reported: the first login (Node starts), the median and 95th percentile of sequential
logins, and the wall time of ``--concurrent`` logins at once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devstack.oidc_client import PASSWORD, OidcClient
from sandbox.defaults import DEFAULT_CONNECTION, DEFAULT_SPA_ORIGIN, POST_LOGIN_ACTION
from sandbox.server import SandboxServer
from sandbox.tenant.seeding import seed_user

PASSWORD_TEXT = "bench password 1234"
SECRET = "bench-post-login-secret"


class _Answers(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps({"result": "none"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def stub_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/auth0/post-login"
    finally:
        server.shutdown()
        server.server_close()


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def measure(action: Path | None, service_url: str, *, logins: int, concurrent: int) -> dict[str, float]:
    secrets = {"POST_LOGIN_URL": service_url, "POST_LOGIN_SECRET": SECRET}
    with SandboxServer(port=0, state_path=None, post_login_action=action, action_secrets=secrets) as server:
        emails = [f"bench-{index}@example.com" for index in range(max(logins, concurrent))]
        for email in emails:
            seed_user(
                server.tenant,
                email=email,
                connection=DEFAULT_CONNECTION,
                password=PASSWORD_TEXT,
                role_ids=[],
                app_metadata=None,
                email_verified=True,
            )
        client = OidcClient(tenant=server.base_url, redirect_uri=DEFAULT_SPA_ORIGIN)

        def login(email: str) -> Callable[[], object]:
            return lambda: client.sign_in(PASSWORD, email, password=PASSWORD_TEXT)

        first = timed(login(emails[0]))
        samples = sorted(timed(login(emails[index % len(emails)])) for index in range(logins))
        with ThreadPoolExecutor(max_workers=concurrent) as pool:
            started = time.perf_counter()
            list(pool.map(lambda email: login(email)(), emails[:concurrent]))
            together = time.perf_counter() - started
    return {
        "first": first,
        "median": statistics.median(samples),
        "p95": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        "together": together,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.post_login_action", description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=int, default=40, help="sequential logins per sandbox (default 40)")
    parser.add_argument("--concurrent", type=int, default=20, help="logins at once (default 20)")
    args = parser.parse_args()
    with stub_service() as url:
        rows = [
            ("no Action bound", measure(None, url, logins=args.logins, concurrent=args.concurrent)),
            ("actions/post-login.js", measure(POST_LOGIN_ACTION, url, logins=args.logins, concurrent=args.concurrent)),
        ]
    print(f"| sandbox | first login | median login | p95 login | {args.concurrent} logins at once |")
    print("|---|---|---|---|---|")
    for name, numbers in rows:
        print(
            f"| {name} | {numbers['first'] * 1000:.0f} ms | {numbers['median'] * 1000:.1f} ms "
            f"| {numbers['p95'] * 1000:.1f} ms | {numbers['together'] * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
