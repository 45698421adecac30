"""`make demo`'s whole journey, lessons included, against the real app under `chalice local`, the Auth0 sandbox and
the local S3 endpoint (its own process), all on ephemeral 127.0.0.1 ports: a buyer's lesson URLs return the files
of content/, a changed signature is refused, a refunded buyer's fresh token opens nothing."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devstack.demo import run_journey
from devstack.stack import LocalStage, Stack, spawn_local_s3
from sandbox.server import SandboxServer
from tests.integration.harness import CATALOGUE, PING_SECRET, ROOT, chalice_local


@pytest.fixture(scope="module")
def lessons_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, LocalStage]]:
    local = LocalStage.read()
    endpoint = spawn_local_s3(local.content, port=0, echo=False)
    try:
        content_url = endpoint.wait_until_serving()
        port = urlsplit(content_url).port
        assert port is not None
        content = dataclasses.replace(local.content, endpoint_url=content_url, port=port)
        # The local stage's content settings (bucket, empty prefix, key pair, region), at this endpoint.
        service_environment = {**content.service_environment(), "CONTENT_PREFIX": local.environment["CONTENT_PREFIX"]}
        with (
            SandboxServer(port=0, state_path=None, catalogue=ROOT / CATALOGUE) as sandbox,
            chalice_local(sandbox, tmp_path_factory.mktemp("lessons"), environment=service_environment) as service,
        ):
            stack = Stack(
                sandbox_url=sandbox.base_url, service_url=service.base_url, processes=[], content_url=content_url
            )
            stage = dataclasses.replace(local, ping_secret=PING_SECRET, content=content)
            yield stack, stage
    finally:
        endpoint.process.terminate()
        endpoint.process.wait(timeout=10)


def test_the_demo_journey_opens_each_lesson_for_a_buyer_and_nothing_after_the_refund(
    lessons_stack: tuple[Stack, LocalStage], capsys: pytest.CaptureFixture[str]
) -> None:
    stack, stage = lessons_stack

    run_journey(stack, stage)  # raises DemoFailed at the first step that does not hold

    out = capsys.readouterr().out
    assert "FAIL" not in out
    for key in ("01-what-serverless-means.html", "02-deployment-checklist.pdf", "03-cold-starts.webm"):
        size = (Path(ROOT) / "content" / "serverless-handbook" / key).stat().st_size
        assert f"-> 200, {size} bytes" in out
    assert "the same URL with one character of its signature changed -> 403 SignatureDoesNotMatch" in out
    left = [int(seconds) for seconds in re.findall(r"\((\d+) s from now\)", out)]
    assert len(left) == 3
    assert all(0 < seconds <= 300 for seconds in left), left
    assert "GET /courses/serverless-handbook/lessons/what-serverless-means -> 403" in out
