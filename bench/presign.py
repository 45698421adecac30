"""Benchmark what signing lesson URLs would cost the private path (prints numbers; not a test).

Run from the repository root::

    .venv/bin/python -m bench.presign

Each sample is a fresh interpreter, the four kinds interleaved, every module loading from warm bytecode (a
temporary PYTHONPYCACHEPREFIX, so the working tree stays clean); the minimum of ``--runs`` samples is reported,
as a ratio to ``import chalice, jwt`` (the denominator ``bench/cold_start.py`` uses). Credentials come from the
environment, as the Lambda runtime gives a function its role's (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_REGION``), and no config or credentials file exists.

- ``boto3 client``: ``import boto3`` and ``boto3.client("s3", config=Config(signature_version="s3v4"))``;
  then the first ``generate_presigned_url`` (it loads the endpoint rules) and the warm cost per URL.
- ``botocore signer only``: ``botocore.auth``, ``AWSRequest`` and ``Credentials``, no client; then the first
  and warm ``S3SigV4QueryAuth`` signature of a URL built by hand (for scale only: building S3 URLs by hand is
  what boto3's endpoint rules exist to avoid).
- ``import boto3`` alone, to split the client's cost.

Every sample runs with sockets blocked (``connect`` and DNS lookups raise and are counted): a sample that
tried the network fails the bench, so each number is also the proof that signing makes no network call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench.no_network import BLOCK_SOCKETS

APP_DIR = Path(__file__).resolve().parents[1]
BUCKET = "course-content-example"
KEY = "serverless-handbook/01-what-serverless-means.html"
WARM_URLS = 1000

# Installed before the clock starts in every sample: any connection or DNS lookup is refused and counted.
NO_NETWORK = (
    "import json, time\n"
    + BLOCK_SOCKETS
    + textwrap.dedent(
        """
        def warm_per_url(sign):
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                for _ in range({warm}):
                    sign()
                best = min(best, (time.perf_counter() - started) / {warm})
            return best
        """
    ).format(warm=WARM_URLS)
)

BASELINE = """
started = time.perf_counter()
import chalice, jwt
print(json.dumps({"cold": time.perf_counter() - started, "attempts": attempts}))
"""

IMPORT_BOTO3 = """
started = time.perf_counter()
import boto3
print(json.dumps({"cold": time.perf_counter() - started, "attempts": attempts}))
"""

BOTO3_CLIENT = f"""
started = time.perf_counter()
import boto3
from botocore.config import Config
client = boto3.client("s3", config=Config(signature_version="s3v4"))
cold = time.perf_counter() - started
params = {{"Bucket": "{BUCKET}", "Key": "{KEY}"}}
started = time.perf_counter()
url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
first = time.perf_counter() - started
warm = warm_per_url(lambda: client.generate_presigned_url("get_object", Params=params, ExpiresIn=300))
assert "X-Amz-Signature=" in url and "X-Amz-Security-Token=" in url, url
print(json.dumps({{"cold": cold, "first": first, "warm": warm, "attempts": attempts, "url": url}}))
"""

BOTOCORE_SIGNER = f"""
import os
started = time.perf_counter()
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
credentials = Credentials(
    os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_SESSION_TOKEN"]
)
cold = time.perf_counter() - started
def sign():
    request = AWSRequest(method="GET", url="https://{BUCKET}.s3.us-east-1.amazonaws.com/{KEY}")
    S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires=300).add_auth(request)
    return request.url
started = time.perf_counter()
url = sign()
first = time.perf_counter() - started
warm = warm_per_url(sign)
print(json.dumps({{"cold": cold, "first": first, "warm": warm, "attempts": attempts, "url": url}}))
"""

SCRIPTS = {
    "baseline: import chalice, jwt": BASELINE,
    "import boto3 alone": IMPORT_BOTO3,
    "boto3 client (import + client)": BOTO3_CLIENT,
    "botocore signer only (imports)": BOTOCORE_SIGNER,
}


def run(script: str, environment: dict[str, str]) -> dict[str, object]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", NO_NETWORK + script],
        cwd=APP_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"a sample failed: {completed.stderr[-800:]}")
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    if result["attempts"]:
        raise RuntimeError(f"a sample tried the network: {result['attempts']}")
    return result


def lambda_environment(scratch: Path) -> dict[str, str]:
    """This process's environment without AWS settings, plus what the Lambda runtime sets for a role."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "BOTO")) and name != "PYTHONDONTWRITEBYTECODE"
    }
    return {
        **inherited,
        # Every sample from warm bytecode (the warm-up runs write it), kept out of the tree.
        "PYTHONPYCACHEPREFIX": str(scratch / "bytecode"),
        "PYTHONPATH": str(APP_DIR),
        "AWS_ACCESS_KEY_ID": "ASIABENCHEXAMPLE0000",
        "AWS_SECRET_ACCESS_KEY": "bench-secret-not-a-real-one",
        "AWS_SESSION_TOKEN": "bench-session-token-not-a-real-one",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # No ~/.aws files on Lambda: point the SDK at files that do not exist.
        "AWS_CONFIG_FILE": str(scratch / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-credentials"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()

    samples: dict[str, list[dict[str, object]]] = {name: [] for name in SCRIPTS}
    with tempfile.TemporaryDirectory() as scratch:
        environment = lambda_environment(Path(scratch))
        for script in SCRIPTS.values():
            run(script, environment)  # warm the .pyc files and the OS file cache
        for _ in range(options.runs):
            for name, script in SCRIPTS.items():
                samples[name].append(run(script, environment))

    def best(name: str, field: str) -> float:
        return min(float(str(sample[field])) for sample in samples[name])

    baseline = best("baseline: import chalice, jwt", "cold")
    print(f"signing cost, fresh interpreters, minimum of {options.runs} each (sockets blocked in every sample)")
    for name in SCRIPTS:
        cold = best(name, "cold")
        print(f"   {name:34s} {cold * 1000:7.1f} ms   ratio {cold / baseline:5.2f}")
    for name in ("boto3 client (import + client)", "botocore signer only (imports)"):
        print(
            f"   {name.split(' (')[0]:34s} first URL {best(name, 'first') * 1000:6.2f} ms, "
            f"then {best(name, 'warm') * 1e6:6.1f} us per URL (best of 5 x {WARM_URLS})"
        )
    print("   network calls while importing, creating the client and signing: none (any attempt fails the bench)")


if __name__ == "__main__":
    main()
