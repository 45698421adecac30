"""Benchmark the cold start of the private path (prints numbers; not a test).

Run from the repository root::

    .venv/bin/python -m bench.cold_start --runs 15

Each sample is a fresh interpreter. The numerator is ``import app`` plus the first
``GET /courses`` with a valid token: the JWKS is fetched from a real HTTP server on
127.0.0.1, the key parsed, the token verified, the catalogue read. The denominator is
``import chalice, jwt`` in a fresh interpreter. Timing starts after interpreter start-up
in both; every module, ours and the libraries', loads from warm bytecode (written by
warm-up runs into a temporary PYTHONPYCACHEPREFIX, so the working tree stays clean).

The runs are interleaved (one of each script, ``--runs`` times over), so that a machine
busy with something else slows every script alike, and the figure is the ratio of the
minimums (target: lambda handler <= 1.1 x the baseline); the ratio of the medians is shown
beside it. A median of two separate series swings from 0.8 to 1.4 on a shared machine.
``--instructions`` also counts, under valgrind (callgrind), the instructions each script
executes once, interpreter start-up subtracted: a figure that other work on the machine
does not move, for comparing two versions of the code. Every script ends with ``os._exit``
after printing: a Lambda cold start ends at the handler's answer (the sandbox is frozen and
reused, never finalised), so interpreter shutdown is counted on neither side.
Three numerators are reported:

- ``test client``: through ``chalice.test.Client`` as the issue words it, with
  ``chalice.test`` imported *before* the clock starts. It pulls in botocore and the
  Chalice CLI (~0.2 s) that a deployed Lambda never loads, so it is harness, not app.
- ``lambda handler``: ``app.app(event, context)`` with an API Gateway proxy event, which
  is what the Lambda runtime does; no harness at all.
- ``test client, harness counted``: the same as the first, harness import included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tests.tokens import AUDIENCE, ISSUER, claims, loopback_jwks, rsa_key, sign

APP_DIR = Path(__file__).resolve().parents[1]

BASELINE = textwrap.dedent(
    """
    import json, os, time
    started = time.perf_counter()
    import chalice, jwt
    print(json.dumps({"seconds": time.perf_counter() - started, "status": 0}), flush=True)
    os._exit(0)
    """
)

THROUGH_TEST_CLIENT = textwrap.dedent(
    """
    import json, os, time
    {harness_before}
    started = time.perf_counter()
    {harness_after}
    import app
    with chalice.test.Client(app.app, project_dir=os.environ["BENCH_PROJECT_DIR"]) as client:
        response = client.http.get(
            "/courses", headers={{"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}}
        )
    elapsed = time.perf_counter() - started
    print(json.dumps({{"seconds": elapsed, "status": response.status_code}}), flush=True)
    os._exit(0)
    """
)

THROUGH_LAMBDA_HANDLER = textwrap.dedent(
    """
    import json, os, time
    started = time.perf_counter()
    import app
    headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}
    event = {
        "resource": "/courses", "path": "/courses", "httpMethod": "GET",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": None,
        "isBase64Encoded": False,
        "requestContext": {"httpMethod": "GET", "resourcePath": "/courses", "path": "/courses"},
    }
    answer = app.app(event, None)
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "status": answer["statusCode"]}), flush=True)
    os._exit(0)
    """
)


def run(script: str, environment: dict[str, str]) -> float:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=APP_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if result["status"] not in (0, 200):
        raise RuntimeError(f"unexpected status {result['status']}: {completed.stderr[-500:]}")
    return float(result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="interleaved runs of each script (default 15)")
    parser.add_argument("--only-handler", action="store_true", help="skip the two test-client numerators")
    parser.add_argument("--instructions", action="store_true", help="also count instructions under valgrind")
    options = parser.parse_args()

    key = rsa_key("k1")
    scripts = {
        "baseline: import chalice, jwt": BASELINE,
        "test client (harness pre-imported)": THROUGH_TEST_CLIENT.format(
            harness_before="import chalice.test", harness_after=""
        ),
        "lambda handler (no harness)": THROUGH_LAMBDA_HANDLER,
        "test client, harness counted": THROUGH_TEST_CLIENT.format(
            harness_before="", harness_after="import chalice.test"
        ),
    }
    if options.only_handler:
        scripts = {name: script for name, script in scripts.items() if not name.startswith("test client")}
    samples: dict[str, list[float]] = {name: [] for name in scripts}
    with (
        loopback_jwks(key) as server,
        tempfile.TemporaryDirectory() as project_dir,
        tempfile.TemporaryDirectory() as bytecode_dir,
    ):
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AUTH0_", "CORS_")) and name != "PYTHONDONTWRITEBYTECODE"
        }
        environment = {
            **inherited,
            # Both sides run from warm bytecode (the warm-up runs write it), kept out of the tree.
            "PYTHONPYCACHEPREFIX": bytecode_dir,
            "PYTHONPATH": str(APP_DIR),
            "AUTH0_AUDIENCE": AUDIENCE,
            "AUTH0_ISSUER": ISSUER,
            "AUTH0_JWKS_URL": server.url,
            "COURSES_FILE": "tests/fixtures/courses.test.json",
            "BENCH_TOKEN": sign(key, claims()),
            "BENCH_PROJECT_DIR": project_dir,  # no .chalice/config.json stage variables
        }
        for script in scripts.values():
            run(script, environment)  # warm the .pyc files and the OS file cache
        fetches_before = server.requests
        for _ in range(options.runs):
            for name, script in scripts.items():
                samples[name].append(run(script, environment))
        app_runs = options.runs * (len(scripts) - 1)
        assert server.requests - fetches_before == app_runs, "one JWKS fetch per cold start"
        # The test-client scripts import their harness outside the clock but inside the count: left out.
        counted = {}
        if options.instructions:
            untimed_harness = ("test client",)
            counted = _instructions(
                {name: script for name, script in scripts.items() if not name.startswith(untimed_harness)}, environment
            )

    baseline = samples["baseline: import chalice, jwt"]
    print(f"cold start, {options.runs} interleaved runs of fresh interpreters each (ratios against the baseline)")
    print(f"   {'':38s} {'min':>8s} {'median':>9s}   {'min ratio':>9s} {'median ratio':>12s}")
    for name, values in samples.items():
        least, middle = min(values), statistics.median(values)
        ratios = f"{least / min(baseline):9.2f} {middle / statistics.median(baseline):12.2f}"
        target = "   (target: min ratio <= 1.1)" if name.startswith("lambda handler") else ""
        print(f"   {name:38s} {least * 1000:5.1f} ms {middle * 1000:6.1f} ms   {ratios}{target}")
    if counted:
        print("instructions executed once (valgrind), interpreter start-up subtracted:")
        for name, count in counted.items():
            print(f"   {name:38s} {count / 1e6:7.1f} M   ratio {count / counted['baseline: import chalice, jwt']:5.3f}")


def _instructions(scripts: dict[str, str], environment: dict[str, str]) -> dict[str, int]:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")

    def count(script: str) -> int:
        with tempfile.TemporaryDirectory() as out:
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out"]
            traced = subprocess.run(  # noqa: S603 - valgrind on our own interpreter and script
                [*command, sys.executable, "-c", script],
                cwd=APP_DIR,
                env={**environment, "PYTHONHASHSEED": "0"},
                capture_output=True,
                text=True,
                check=True,
            )
        collected = re.search(r"Collected : (\d+)", traced.stderr)
        if collected is None:
            raise RuntimeError(f"valgrind reported no count: {traced.stderr[-500:]}")
        return int(collected.group(1))

    start_up = count("import json, os, time\nos._exit(0)")
    return {name: count(script) - start_up for name, script in scripts.items()}


if __name__ == "__main__":
    main()
