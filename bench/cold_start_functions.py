"""Cold start of each deployed function, measured locally in fresh interpreters.

    .venv/bin/python -m bench.cold_start_functions [--runs 7]

* api, private route: `import app` + the first `GET /courses` (JWKS from the sandbox);
* api, ping route (deployed: queue mode): `import app` + the first sale ping, whose SQS
  SendMessage goes to a loopback stand-in (botocore's AWS_ENDPOINT_URL_SQS);
* worker: `import app` + the first queued sale, fulfilled against the sandbox (M2M token,
  lookup, create, role, onboarding e-mail).

Each is the median wall time of fresh `python` processes, from interpreter start to answer,
the way Lambda's init + first invocation is. Lambda gives a function CPU in proportion to its
memory (1 vCPU at 1769 MB), so CPU-bound init scales by about 1769 / memory from one local core.
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

_PROBES = {
    "api: GET /courses": """
import time, json
start = time.perf_counter()
import app
from bench.cold_start_functions import api_event
answer = app.app(api_event("GET", "/courses", {"authorization": "Bearer " + TOKEN}), None)
assert answer["statusCode"] == 200, answer
print(json.dumps({"ms": (time.perf_counter() - start) * 1000}))
""",
    "api: POST /gumroad/ping (queued)": """
import time, json
start = time.perf_counter()
import app
from bench.cold_start_functions import api_event, sale_body, ping_headers
answer = app.app(api_event("POST", "/gumroad/ping", ping_headers(), sale_body("cold-ping@example.com")), None)
assert answer["statusCode"] == 200 and "queued" in answer["body"], answer
print(json.dumps({"ms": (time.perf_counter() - start) * 1000}))
""",
    "worker: first queued sale": """
import time, json
start = time.perf_counter()
import app
from bench.cold_start_functions import sqs_event
app.process_ping(sqs_event(EMAIL), None)
print(json.dumps({"ms": (time.perf_counter() - start) * 1000}))
""",
}


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


class _FakeSqs(BaseHTTPRequestHandler):
    """Answers SendMessage (AWS JSON protocol) like SQS does, MD5 included, on loopback."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        body = json.dumps(
            {
                "MessageId": str(uuid.uuid4()),
                "MD5OfMessageBody": hashlib.md5(request.get("MessageBody", "").encode()).hexdigest(),  # noqa: S324
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from sandbox.server import SandboxServer
    from sandbox.tenant.seeding import seed_user

    fake_sqs = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSqs)
    threading.Thread(target=fake_sqs.serve_forever, daemon=True).start()
    with SandboxServer(port=0, catalogue=ROOT / "chalicelib" / "courses.local.json", state_path=None) as sandbox:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "GUMROAD_", "PING_", "COURSES_"))},
            "AUTH0_DOMAIN": sandbox.base_url,
            "AUTH0_CLIENT_ID": sandbox.client_id,
            "AUTH0_CLIENT_SECRET": "sandbox-m2m-client-secret-not-a-real-secret",
            "GUMROAD_PING_SECRET": "bench-ping-secret",
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
        for name, probe in _PROBES.items():
            timings = []
            for run in range(args.runs + 1):  # the first run writes bytecode, as a deployed package has it
                email = f"cold-{uuid.uuid4().hex[:8]}@example.com"
                script = probe.replace("TOKEN", repr(token)).replace("EMAIL", repr(email))
                answer = subprocess.run(  # noqa: S603 - our own interpreter and probe
                    [sys.executable, "-c", script],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                if answer.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{answer.stderr[-2000:]}")
                if run:
                    timings.append(json.loads(answer.stdout.strip().splitlines()[-1])["ms"])
            results[name] = statistics.median(timings)
    fake_sqs.shutdown()
    print(f"cold start (import app + first invocation), median of {args.runs} fresh interpreters, one local core:")
    for name, ms in results.items():
        print(
            f"  {name:36s} {ms:7.0f} ms local"
            f"   ~{ms * LAMBDA_FULL_CPU_MB / 1024:5.0f} ms at 1024 MB"
            f"   ~{ms * LAMBDA_FULL_CPU_MB / 512:5.0f} ms at 512 MB (CPU-bound upper bound)"
        )


if __name__ == "__main__":
    main()
