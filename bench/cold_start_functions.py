"""Cold start of each deployed function, measured locally in fresh interpreters.

    .venv/bin/python -m bench.cold_start_functions [--runs 7] [--imports]

* api, private route: `import app` + the first `GET /courses` (JWKS from the sandbox);
* api, ping route (deployed: queue mode): `import app` + the first sale ping, whose SQS
  SendMessage goes to a loopback stand-in (botocore's AWS_ENDPOINT_URL_SQS);
* worker: `import app` + the first queued sale, fulfilled against the sandbox (M2M token,
  lookup, create, role, onboarding e-mail).

As deployed, the service's secret comes from Secrets Manager (AUTH0_SECRET_ID), here a loopback
stand-in too (AWS_ENDPOINT_URL_SECRETS_MANAGER): the ping route and the worker read it on first use.

Each is the median wall time of fresh `python` processes, from interpreter start to answer,
the way Lambda's init + first invocation is. ``--imports`` adds one run of each under
``python -X importtime`` and lists what it loads: the time each top-level package's modules
take to import (their own time, whoever imported them), most expensive first. Lambda gives a
function CPU in proportion to its memory (1 vCPU at 1769 MB), so CPU-bound init scales by
about 1769 / memory from one local core.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_FULL_CPU_MB = 1769
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:gumroad-auth0-gate-AbCdEf"

# Each probe is what Lambda does: import the app, then hand it one event. The event is built here, in the
# bench, and passed in BENCH_EVENT, so that nothing but the app is imported or run inside the clock.
_PROBES = {
    "api: GET /courses": """
import time, json, os
start = time.perf_counter()
import app
answer = app.app(json.loads(os.environ["BENCH_EVENT"]), None)
assert answer["statusCode"] == 200, answer
print(json.dumps({"ms": (time.perf_counter() - start) * 1000}))
""",
    "api: POST /gumroad/ping (queued)": """
import time, json, os
start = time.perf_counter()
import app
answer = app.app(json.loads(os.environ["BENCH_EVENT"]), None)
assert answer["statusCode"] == 200 and "queued" in answer["body"], answer
print(json.dumps({"ms": (time.perf_counter() - start) * 1000}))
""",
    "worker: first queued sale": """
import time, json, os
start = time.perf_counter()
import app
app.process_ping(json.loads(os.environ["BENCH_EVENT"]), None)
print(json.dumps({"ms": (time.perf_counter() - start) * 1000}))
""",
}


def _event(probe: str, *, token: str, email: str) -> dict[str, object]:
    if probe.startswith("api: GET"):
        return api_event("GET", "/courses", {"authorization": "Bearer " + token})
    if probe.startswith("api: POST"):
        return api_event("POST", "/gumroad/ping", ping_headers(), sale_body("cold-ping@example.com"))
    return sqs_event(email)


def api_event(method: str, path: str, headers: dict[str, str], body: str | None = None) -> dict[str, object]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "identity": {"sourceIp": "127.0.0.1"}},
        "body": body,
        "isBase64Encoded": False,
    }


def sale_body(email: str) -> str:
    from tests.purchase_support import form_body

    return form_body("sale", email=email)


def ping_headers() -> dict[str, str]:
    import base64

    secret = base64.b64encode(b"gumroad:bench-ping-secret").decode()
    return {"content-type": "application/x-www-form-urlencoded", "authorization": f"Basic {secret}"}


def sqs_event(email: str) -> dict[str, object]:
    from chalicelib.purchases.gumroad import parse_ping
    from chalicelib.purchases.queue import encode_event

    event = parse_ping("application/x-www-form-urlencoded", sale_body(email).encode())
    body = encode_event(event)  # type: ignore[arg-type]
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "cold-start",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:gumroad-auth0-gate-pings.fifo",
        "awsRegion": "us-east-1",
    }
    return {"Records": [record]}


class _FakeAws(BaseHTTPRequestHandler):
    """An AWS JSON-protocol service on loopback: reads the request, answers ``answer(request)`` with 200."""

    content_type = "application/x-amz-json-1.0"

    def answer(self, request: dict[str, object]) -> dict[str, object]:
        raise NotImplementedError

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        body = json.dumps(self.answer(request)).encode()
        self.send_response(200)
        self.send_header("content-type", self.content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


class _FakeSecretsManager(_FakeAws):
    """Answers GetSecretValue (AWS JSON 1.1) with the service's secret, as Secrets Manager does."""

    content_type = "application/x-amz-json-1.1"
    secret: str = "{}"

    def answer(self, request: dict[str, object]) -> dict[str, object]:
        return {"ARN": SECRET_ARN, "Name": "gumroad-auth0-gate", "SecretString": self.secret, "VersionId": "v1"}


class _FakeSqs(_FakeAws):
    """Answers SendMessage like SQS does, MD5 included."""

    def answer(self, request: dict[str, object]) -> dict[str, object]:
        message = str(request.get("MessageBody", ""))
        return {"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": hashlib.md5(message.encode()).hexdigest()}  # noqa: S324


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--imports", action="store_true", help="also list what each function loads, and its cost")
    args = parser.parse_args()

    from sandbox.server import SandboxServer
    from sandbox.tenant.seeding import seed_user

    fake_sqs = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSqs)
    fake_secrets = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSecretsManager)
    for fake in (fake_sqs, fake_secrets):
        threading.Thread(target=fake.serve_forever, daemon=True).start()
    with SandboxServer(port=0, catalogue=ROOT / "chalicelib" / "courses.local.json", state_path=None) as sandbox:
        _FakeSecretsManager.secret = json.dumps(
            {
                "client_id": sandbox.client_id,
                "client_secret": "sandbox-m2m-client-secret-not-a-real-secret",
                "gumroad_ping_secret": "bench-ping-secret",
            }
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "GUMROAD_", "PING_", "COURSES_"))},
            "AUTH0_DOMAIN": sandbox.base_url,
            "AUTH0_SECRET_ID": SECRET_ARN,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{fake_secrets.server_address[1]}",
            "COURSES_FILE": "chalicelib/courses.local.json",
            "AUTH0_AUDIENCE": sandbox.api_audience,
            "PING_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/gumroad-auth0-gate-pings.fifo",
            "PING_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/gumroad-auth0-gate-pings-dlq.fifo",
            "AWS_ENDPOINT_URL_SQS": f"http://127.0.0.1:{fake_sqs.server_address[1]}",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "PYTHONDONTWRITEBYTECODE": "",
        }
        seed_user(
            sandbox.tenant,
            email="token-holder@example.com",
            connection="Username-Password-Authentication",
            password=None,
            role_ids=["rol_LocalServerless01"],
            app_metadata=None,
        )
        token = sandbox.user_token("token-holder@example.com")
        results = {}
        imported: dict[str, list[tuple[str, float]]] = {}
        for name, probe in _PROBES.items():
            timings = []
            for run in range(args.runs + 1):  # the first run writes bytecode, as a deployed package has it
                email = f"cold-{uuid.uuid4().hex[:8]}@example.com"
                run_env = {**env, "BENCH_EVENT": json.dumps(_event(name, token=token, email=email))}
                answer = _probe([sys.executable, "-c", probe], run_env)
                if answer.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{answer.stderr[-2000:]}")
                if run:
                    timings.append(json.loads(answer.stdout.strip().splitlines()[-1])["ms"])
            results[name] = statistics.median(timings)
            if args.imports:
                email = f"cold-{uuid.uuid4().hex[:8]}@example.com"
                event = json.dumps(_event(name, token=token, email=email))
                imported[name] = _import_costs(probe, {**env, "BENCH_EVENT": event})
    fake_sqs.shutdown()
    fake_secrets.shutdown()
    print(f"cold start (import app + first invocation), median of {args.runs} fresh interpreters, one local core:")
    for name, ms in results.items():
        print(
            f"  {name:36s} {ms:7.0f} ms local"
            f"   ~{ms * LAMBDA_FULL_CPU_MB / 1024:5.0f} ms at 1024 MB"
            f"   ~{ms * LAMBDA_FULL_CPU_MB / 512:5.0f} ms at 512 MB (CPU-bound upper bound)"
        )
    for name, costs in imported.items():
        total = sum(ms for _, ms in costs)
        print(
            f"\n{name}: what it imports, {total:.0f} ms in all (-X importtime, own time per package; tracing inflates)"
        )
        for package, ms in costs[:12]:
            print(f"  {package:32s} {ms:6.1f}")


def _probe(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and probe
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _import_costs(script: str, env: dict[str, str]) -> list[tuple[str, float]]:
    """The top-level packages one run imports, by the import time of their own modules, most expensive first."""
    traced = _probe([sys.executable, "-X", "importtime", "-c", script], env)
    traced.check_returncode()
    costs: dict[str, float] = {}
    for line in traced.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        package = name.strip().split(".")[0]
        costs[package] = costs.get(package, 0.0) + int(own) / 1000
    return sorted(costs.items(), key=lambda item: -item[1])


if __name__ == "__main__":
    main()
