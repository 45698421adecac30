"""`make demo`: the whole journey against the local stack, step by step, with nothing to type.

sale -> new Auth0 user holding the course role -> access token -> /courses lists the course
-> refund -> a new token no longer opens the course (403). It starts its own sandbox (a throwaway tenant) and
service on free ports, so it runs while `make run` is up.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from devstack.stack import LocalStage, Stack, free_port, running_stack

ROOT = Path(__file__).resolve().parent.parent
COURSE = "serverless-handbook"
# Gumroad redelivers a ping answered with these, four deliveries in all (docs/purchases.md).
GUMROAD_RETRIES = frozenset({499, 500, 502, 503, 504})
GUMROAD_ATTEMPTS = 4


class DemoFailed(Exception):
    pass


def http(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def gumroad_body(name: str, **changes: str) -> bytes:
    pairs = parse_qsl((ROOT / "tests" / "fixtures" / "gumroad" / f"{name}.form").read_text(), keep_blank_values=True)
    return urlencode([(key, changes.get(key, value)) for key, value in pairs], quote_via=quote).encode()


def step(number: int, text: str) -> None:
    print(f"\n[{number}] {text}", flush=True)


def expect(condition: bool, what: str) -> None:
    print(f"    {'ok ' if condition else 'FAIL'} {what}", flush=True)
    if not condition:
        raise DemoFailed(what)


def run_journey(stack: Stack, stage: LocalStage) -> None:
    buyer = f"demo-{secrets.token_hex(4)}@example.com"
    sale_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()
    credentials = base64.b64encode(f"gumroad:{stage.ping_secret}".encode()).decode()
    ping_headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {credentials}"}
    ping_url = f"{stack.service_url}/gumroad/ping"

    step(1, f"Gumroad sends a sale ping for {buyer}")
    status, answer = ping(ping_url, gumroad_body("sale", email=buyer, sale_id=sale_id), ping_headers)
    expect(status == 200 and answer.get("status") == "processed", "the ping is processed")

    step(2, "The sandbox tenant now has the buyer, holding the course role")
    _, users = http("GET", f"{stack.sandbox_url}/sandbox/users")
    user = next((u for u in users.get("users", []) if u.get("email") == buyer), None)
    expect(user is not None, "a new Auth0 user exists")
    assert user is not None
    print(f"    user_id={user.get('user_id')} roles={[r.get('name') for r in user.get('roles', [])]}")
    expect(f"read:course:{COURSE}" in user.get("permissions", []), f"its roles carry read:course:{COURSE}")
    _, outbox = http("GET", f"{stack.sandbox_url}/sandbox/outbox?to={quote(buyer)}")
    expect(bool(outbox.get("messages")), "Auth0 e-mailed the buyer a set-password link")

    step(3, "The buyer signs in (the sandbox issues the access token)")
    token = _token(stack, buyer)
    print(f"    token: {token[:24]}... ({len(token)} characters)")

    step(4, "The SPA calls GET /courses with the token")
    status, answer = http("GET", f"{stack.service_url}/courses", headers={"Authorization": f"Bearer {token}"})
    print(f"    -> {status} {json.dumps(answer)}")
    expect(status == 200 and any(c.get("slug") == COURSE for c in answer.get("courses", [])), "the course is listed")

    step(5, "Gumroad sends the refund ping")
    status, answer = ping(ping_url, gumroad_body("refund", email=buyer, sale_id=sale_id), ping_headers)
    expect(status == 200 and "role_removed" in answer.get("changes", []), "the role is removed")

    step(6, f"A new token no longer opens /courses/{COURSE}")
    token = _token(stack, buyer)
    status, answer = http("GET", f"{stack.service_url}/courses/{COURSE}", headers={"Authorization": f"Bearer {token}"})
    print(f"    -> {status} {json.dumps(answer)}")
    expect(status == 403 and answer.get("error") == "insufficient_scope", "403 insufficient_scope")
    print("\n    (A token issued before the refund keeps its permissions until it expires: Auth0 access tokens are")
    print("     self-contained. Keep API token lifetimes short if refunds must bite at once.)")


def ping(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """POST a ping as Gumroad does, and send it again after a status Gumroad retries (on a busy machine the first,
    cold ping can outlast its deadline: 503, and Gumroad would redeliver it a minute later)."""
    for attempt in range(1, GUMROAD_ATTEMPTS + 1):
        status, answer = http("POST", url, body=body, headers=headers)
        print(f"    -> {status} {json.dumps(answer)}")
        if status not in GUMROAD_RETRIES or attempt == GUMROAD_ATTEMPTS:
            break
        print(f"       (Gumroad retries a {status}: delivering it again)")
    return status, answer


def _token(stack: Stack, email: str) -> str:
    body = json.dumps({"email": email}).encode()
    status, answer = http(
        "POST", f"{stack.sandbox_url}/sandbox/token", body=body, headers={"Content-Type": "application/json"}
    )
    expect(status == 200 and isinstance(answer.get("access_token"), str), "the sandbox issued an access token")
    return str(answer["access_token"])


def main() -> int:
    stage = LocalStage.read()
    # Ports and a tenant of its own, so that it runs beside `make run` (8787, 8000, 3000 and .sandbox/) untouched.
    sandbox_port, service_port = free_port(), free_port()
    print(
        f"make demo: starting an Auth0 sandbox on :{sandbox_port} (a throwaway tenant) and chalice local on "
        f":{service_port} ...",
        flush=True,
    )
    try:
        with (
            tempfile.TemporaryDirectory(prefix="gumroad-auth0-gate-demo-") as tenant,
            running_stack(
                service_port=service_port,
                sandbox_port=sandbox_port,
                sandbox_state=Path(tenant) / "state.json",
                quiet_sandbox=True,
            ) as stack,
        ):
            run_journey(stack, stage)
    except DemoFailed as failure:
        print(f"\nmake demo: FAILED at: {failure}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 1
    print("\nmake demo: the whole journey works.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
