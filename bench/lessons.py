"""Benchmark what a course's lessons cost ``GET /courses/{slug}`` (prints numbers; not a test).

Run from the repository root::

    .venv/bin/python -m bench.lessons

Warm: one interpreter, the app imported and its first request made (JWKS fetched, boto3's client built), then
``GET /courses/{slug}`` through the Lambda handler (``app.app(event, None)``, API Gateway's proxy event) for a
course of N lessons, each answer signing N URLs, against the same course with no lessons (nothing signed): the
courses interleaved, ``--rounds`` rounds of ``--requests`` requests each, the minimum and median time per request
of the rounds. A course's answer hands out the URLs it signed while half their lifetime is left (the rounds run
inside that window), so the bench also times signing itself: ``generate_presigned_url`` per URL, what an answer
pays for each lesson once per half lifetime and container. Sockets are blocked after the first request of each
course: a measured request that tried the network would fail the bench, so the numbers are also the proof that
signing makes no network call.

Cold: fresh interpreters from warm bytecode, interleaved, the minimum of ``--runs`` (as ``bench/cold_start.py``):
``import chalice, jwt`` (the denominator), the first ``GET /courses``, and the first ``GET /courses/{slug}`` of a
course without lessons and of one with 3 (which loads boto3 and builds its S3 client).

Credentials are a Lambda role's (environment variables with a session token), the region ``AWS_REGION``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench.no_network import BLOCK_SOCKETS
from tests.tokens import AUDIENCE, ISSUER, claims, loopback_jwks, rsa_key, sign

APP_DIR = Path(__file__).resolve().parents[1]
LESSON_COUNTS = (1, 3, 10, 30)
ROLE = {
    "AWS_ACCESS_KEY_ID": "ASIATESTEXAMPLE00000",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-not-a-real-one",
    "AWS_SESSION_TOKEN": "bench-session-token",
    "AWS_REGION": "us-east-1",
    "CONTENT_BUCKET": "course-content-bench",
    "CONTENT_PREFIX": "courses/",
}

WARM = textwrap.dedent(
    """
    import json, os, statistics, sys, time
    import app

    def event(slug):
        headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}
        path = "/courses/" + slug
        return {
            "resource": "/courses/{slug}", "path": path, "httpMethod": "GET", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": {"slug": slug}, "stageVariables": None,
            "body": None, "isBase64Encoded": False,
            "requestContext": {"httpMethod": "GET", "resourcePath": "/courses/{slug}", "path": path},
        }

    slugs = json.loads(os.environ["BENCH_SLUGS"])
    events = {slug: event(slug) for slug in slugs}
    for slug in slugs:  # the first request of each: the JWKS fetch, boto3's import and client
        answer = app.app(events[slug], None)
        assert answer["statusCode"] == 200, answer

    {block_sockets}

    requests, rounds = int(os.environ["BENCH_REQUESTS"]), int(os.environ["BENCH_ROUNDS"])
    per_request = {slug: [] for slug in slugs}
    signed = {}
    for _ in range(rounds):
        for slug in slugs:
            started = time.perf_counter()
            for _ in range(requests):
                answer = app.app(events[slug], None)
            per_request[slug].append((time.perf_counter() - started) / requests)
            assert answer["statusCode"] == 200, answer
            signed[slug] = len(json.loads(answer["body"])["lessons"])
    # What a course's answer pays when a URL is signed anew (once per lesson and container every half lifetime):
    # a lesson's own address always signs.
    from chalicelib import wiring
    course = wiring.get_catalogue().by_slug(slugs[-1])
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for lesson in course.lessons:
            wiring.get_lesson_urls().for_lesson(lesson)
        best = min(best, (time.perf_counter() - started) / len(course.lessons))
    print(json.dumps({"per_request": per_request, "signed": signed, "per_url": best, "attempts": attempts}))
    """
).replace("{block_sockets}", BLOCK_SOCKETS.strip())

COLD = textwrap.dedent(
    """
    import json, os, time
    started = time.perf_counter()
    import app
    path, resource, slug = os.environ["BENCH_PATH"], os.environ["BENCH_RESOURCE"], os.environ.get("BENCH_SLUG")
    headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}
    answer = app.app({
        "resource": resource, "path": path, "httpMethod": "GET", "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": {"slug": slug} if slug else None,
        "stageVariables": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"httpMethod": "GET", "resourcePath": resource, "path": path},
    }, None)
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "status": answer["statusCode"]}))
    """
)

BASELINE = textwrap.dedent(
    """
    import json, time
    started = time.perf_counter()
    import chalice, jwt
    print(json.dumps({"seconds": time.perf_counter() - started, "status": 200}))
    """
)


def catalogue(counts: tuple[int, ...]) -> dict[str, object]:
    """One course per lesson count (``lessons-0`` has none), each lesson a text, a file or a video in turn."""
    kinds = (("text", "html"), ("file", "pdf"), ("video", "webm"))
    courses = []
    for count in (0, *counts):
        slug = f"lessons-{count}"
        lessons = [
            {"id": f"lesson-{n}", "title": f"Lesson {n}", "kind": kind, "key": f"{slug}/{n:02d}-lesson.{extension}"}
            for n, (kind, extension) in ((n, kinds[n % 3]) for n in range(count))
        ]
        courses.append(
            {
                "slug": slug,
                "title": f"A course of {count} lessons",
                "role_id": f"rol_bench{count:04d}",
                "permission": "read:course:bench",
                "gumroad_products": [f"bench-{count}"],
                "lessons": lessons,
            }
        )
    return {"courses": courses}


def run(script: str, environment: dict[str, str]) -> dict[str, object]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=APP_DIR, env=environment, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="warm requests per round and course (200)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved warm rounds (15)")
    parser.add_argument("--runs", type=int, default=15, help="interleaved cold runs of each script (15)")
    options = parser.parse_args()

    key = rsa_key("k1")
    with (
        loopback_jwks(key) as server,
        tempfile.TemporaryDirectory(dir=APP_DIR / "bench") as work,
        tempfile.TemporaryDirectory() as bytecode_dir,
    ):
        courses = Path(work) / "courses.json"
        courses.write_text(json.dumps(catalogue(LESSON_COUNTS)))
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AUTH0_", "CORS_", "AWS_", "CONTENT_")) and name != "PYTHONDONTWRITEBYTECODE"
        }
        environment = {
            **inherited,
            **ROLE,
            "PYTHONPYCACHEPREFIX": bytecode_dir,
            "PYTHONPATH": str(APP_DIR),
            "AWS_CONFIG_FILE": str(Path(work) / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(Path(work) / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AUTH0_AUDIENCE": AUDIENCE,
            "AUTH0_ISSUER": ISSUER,
            "AUTH0_JWKS_URL": server.url,
            "COURSES_FILE": str(courses.relative_to(APP_DIR)),
            "BENCH_TOKEN": sign(key, claims(permissions=["read:course:bench"])),
        }
        warm = _warm(environment, options)
        cold = _cold(environment, options)
    _report(warm, cold, options)


def _warm(environment: dict[str, str], options: argparse.Namespace) -> dict[str, object]:
    slugs = [f"lessons-{count}" for count in (0, *LESSON_COUNTS)]
    result = run(
        WARM,
        {
            **environment,
            "BENCH_SLUGS": json.dumps(slugs),
            "BENCH_REQUESTS": str(options.requests),
            "BENCH_ROUNDS": str(options.rounds),
        },
    )
    if result["attempts"]:
        raise SystemExit(f"bench.lessons: a warm request tried the network: {result['attempts']}")
    return result


def _cold(environment: dict[str, str], options: argparse.Namespace) -> dict[str, list[float]]:
    scripts = {
        "import chalice, jwt (denominator)": (BASELINE, {}),
        "GET /courses": (COLD, {"BENCH_PATH": "/courses", "BENCH_RESOURCE": "/courses"}),
        "GET /courses/{slug}, no lessons": (
            COLD,
            {"BENCH_PATH": "/courses/lessons-0", "BENCH_RESOURCE": "/courses/{slug}", "BENCH_SLUG": "lessons-0"},
        ),
        "GET /courses/{slug}, 3 lessons signed": (
            COLD,
            {"BENCH_PATH": "/courses/lessons-3", "BENCH_RESOURCE": "/courses/{slug}", "BENCH_SLUG": "lessons-3"},
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in scripts}
    for script, extra in scripts.values():
        run(script, {**environment, **extra})  # warm the bytecode and the OS file cache
    for _ in range(options.runs):
        for name, (script, extra) in scripts.items():
            result = run(script, {**environment, **extra})
            if result["status"] != 200:
                raise SystemExit(f"bench.lessons: {name} answered {result['status']}")
            samples[name].append(float(str(result["seconds"])))
    return samples


def _report(warm: dict[str, object], cold: dict[str, list[float]], options: argparse.Namespace) -> None:
    per_request: dict[str, list[float]] = warm["per_request"]  # type: ignore[assignment]
    signed: dict[str, int] = warm["signed"]  # type: ignore[assignment]
    bare = per_request["lessons-0"]
    print(
        f"warm GET /courses/{{slug}} through the Lambda handler: {options.rounds} interleaved rounds of "
        f"{options.requests} requests, time per request (sockets blocked: no network call)"
    )
    print(f"   {'lessons':16s} {'min':>9s} {'median':>9s}   {'min ratio':>9s}   {'per lesson (min)':>16s}")
    for slug, times in per_request.items():
        count = signed[slug]
        extra = (min(times) - min(bare)) / count * 1e6 if count else 0.0
        print(
            f"   {count:16d} {min(times) * 1e6:6.0f} µs {statistics.median(times) * 1e6:6.0f} µs   "
            f"{min(times) / min(bare):9.2f}   {f'{extra:.0f} µs' if count else '(no lessons)':>16s}"
        )
    per_url = float(str(warm["per_url"]))
    print(
        f"   signing one URL anew (boto3's generate_presigned_url, min of {options.rounds} rounds): "
        f"{per_url * 1e6:.0f} µs, {per_url / min(bare):.1f} x a whole answer without lessons"
    )
    baseline = cold["import chalice, jwt (denominator)"]
    print(f"cold start, {options.runs} interleaved fresh interpreters each (ratios of the minimums to the denominator)")
    for name, values in cold.items():
        print(f"   {name:40s} {min(values) * 1000:6.1f} ms   ratio {min(values) / min(baseline):5.2f}")


if __name__ == "__main__":
    main()
