"""`make demo`: the whole journey against the local stack, step by step, with nothing to type.

sale -> new Auth0 user holding the course role -> access token -> /courses lists the course -> its lessons'
signed URLs return their files from the local S3 (a changed signature does not) -> refund -> a new token no
longer opens the course or a lesson (403, no URL). It starts its own sandbox (a throwaway tenant), local S3 and
service on free ports, so it runs while `make run` is up.

``python -m devstack.demo --running`` runs the same journey against a `make run` that is already serving.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from devstack.stack import DEFAULT_SERVICE_PORT, LocalStage, Stack, free_ports, start_stack

ROOT = Path(__file__).resolve().parent.parent
COURSE = "serverless-handbook"
DEFAULT_URL_LIFETIME_SECONDS = 300  # the service's default (chalicelib/config/content_settings.py)
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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 302 itself is the answer under test


def fetch(url: str, *, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers and bytes of a GET, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback URLs we were given
    try:
        with opener.open(request, timeout=15) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


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

    lifetime = int(stage.environment.get("CONTENT_URL_LIFETIME_SECONDS") or DEFAULT_URL_LIFETIME_SECONDS)
    lessons = _open_lessons(stack, token, lifetime)

    step(8, "Gumroad sends the refund ping")
    status, answer = ping(ping_url, gumroad_body("refund", email=buyer, sale_id=sale_id), ping_headers)
    expect(status == 200 and "role_removed" in answer.get("changes", []), "the role is removed")

    step(9, f"A new token no longer opens /courses/{COURSE}")
    token = _token(stack, buyer)
    status, answer = http("GET", f"{stack.service_url}/courses/{COURSE}", headers={"Authorization": f"Bearer {token}"})
    print(f"    -> {status} {json.dumps(answer)}")
    expect(status == 403 and answer.get("error") == "insufficient_scope", "403 insufficient_scope")
    expect("lessons" not in answer and "X-Amz-Signature" not in json.dumps(answer), "no lesson and no URL in it")
    lesson_url = f"{stack.service_url}/courses/{COURSE}/lessons/{lessons[0]['id']}"
    status, headers, _ = fetch(lesson_url, headers={"Authorization": f"Bearer {token}"})
    print(f"    GET /courses/{COURSE}/lessons/{lessons[0]['id']} -> {status}")
    expect(status == 403 and "Location" not in headers, "a lesson's address refuses it too, with no Location")
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


def _open_lessons(stack: Stack, token: str, lifetime: int) -> list[dict[str, Any]]:
    bearer = {"Authorization": f"Bearer {token}"}
    step(5, f"The SPA opens the course: GET /courses/{COURSE} lists its lessons, each with a signed URL")
    status, answer = http("GET", f"{stack.service_url}/courses/{COURSE}", headers=bearer)
    answered_at = time.time()  # the service signed before this: expires_at is at most a lifetime from now
    lessons: list[dict[str, Any]] = answer.get("lessons", []) if status == 200 else []
    expect(status == 200 and bool(lessons), f"200 with {len(lessons)} lessons")
    for lesson in lessons:
        left = datetime.fromisoformat(lesson["expires_at"].replace("Z", "+00:00")).timestamp() - answered_at
        print(f"    {lesson['kind']:5} {lesson['id']:24} expires_at {lesson['expires_at']} ({left:.0f} s from now)")
        expect(0 < left <= lifetime, f"expires_at is no more than the configured {lifetime} s away")

    step(6, "Each URL returns its file from the local S3, which checks the signature")
    for lesson in lessons:
        status, headers, body = fetch(lesson["url"])
        key = unquote(lesson["url"].split("?", 1)[0].split("/", 4)[-1])  # http://host:port/bucket/<key>
        expected = (ROOT / "content" / key).read_bytes()
        print(f"    {lesson['id']:24} -> {status}, {len(body)} bytes, {headers.get('Content-Type')}")
        expect(status == 200 and body == expected, f"the bytes of content/{key}")
    url = lessons[0]["url"]
    at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    changed = url[:at] + ("0" if url[at] != "0" else "1") + url[at + 1 :]
    status, _, body = fetch(changed)
    print(f"    the same URL with one character of its signature changed -> {status} {_s3_code(body)}")
    expect(status == 403 and _s3_code(body) == "SignatureDoesNotMatch", "refused: 403 SignatureDoesNotMatch")

    step(7, f"A lesson's lasting address, GET /courses/{COURSE}/lessons/{lessons[-1]['id']}, redirects to a fresh URL")
    status, headers, _ = fetch(f"{stack.service_url}/courses/{COURSE}/lessons/{lessons[-1]['id']}", headers=bearer)
    print(f"    -> {status}, Cache-Control: {headers.get('Cache-Control')}")
    expect(status == 302 and headers.get("Cache-Control") == "no-store", "302, never cached")
    status, _, body = fetch(str(headers.get("Location")))
    expect(status == 200 and len(body) > 0, f"its Location returns the file ({len(body)} bytes)")
    return lessons


def _s3_code(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""


def _token(stack: Stack, email: str) -> str:
    body = json.dumps({"email": email}).encode()
    status, answer = http(
        "POST", f"{stack.sandbox_url}/sandbox/token", body=body, headers={"Content-Type": "application/json"}
    )
    expect(status == 200 and isinstance(answer.get("access_token"), str), "the sandbox issued an access token")
    return str(answer["access_token"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__)
    parser.add_argument("--running", action="store_true", help="use the `make run` already serving (default ports)")
    args = parser.parse_args(argv)
    stage = LocalStage.read()
    try:
        if args.running:
            print("make demo: against the `make run` already serving ...", flush=True)
            run_journey(
                Stack(
                    sandbox_url=f"http://127.0.0.1:{stage.sandbox_port}",
                    service_url=f"http://127.0.0.1:{DEFAULT_SERVICE_PORT}",
                    processes=[],
                    content_url=stage.content.endpoint_url,
                ),
                stage,
            )
        else:
            # Ports and a tenant of its own, so that it runs beside `make run` (its ports and .sandbox/) untouched.
            sandbox_port, content_port, service_port = free_ports(3)
            print(
                f"make demo: starting an Auth0 sandbox on :{sandbox_port} (a throwaway tenant), the local S3 on "
                f":{content_port} and chalice local on :{service_port} ...",
                flush=True,
            )
            with (
                tempfile.TemporaryDirectory(prefix="gumroad-auth0-gate-demo-") as tenant,
                start_stack(
                    service_port=service_port,
                    sandbox_port=sandbox_port,
                    sandbox_state=Path(tenant) / "state.json",
                    content_port=content_port,
                    quiet_sandbox=True,
                ) as stack,
            ):
                run_journey(stack, stage)
    except DemoFailed as failure:
        print(f"\nmake demo: FAILED at: {failure}", file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 1
    print("\nmake demo: the whole journey works.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
