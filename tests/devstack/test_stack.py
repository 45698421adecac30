"""`make run`'s stack: the local stage points boto3 at the loopback S3 endpoint it serves, by AWS's own settings."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import requests

from devstack.s3 import DEFAULT_BUCKET, DEFAULT_KEY, DEFAULT_PORT, DEFAULT_REGION, AccessKey, s3_client
from devstack.stack import LocalContent, LocalStage, service_process_environment, spawn_local_s3
from tests.devstack.s3.conftest import presign


def test_the_local_stage_points_boto3_at_the_endpoint_make_run_serves_with_its_dev_key_pair() -> None:
    stage = LocalStage.read()

    assert stage.content == LocalContent(
        endpoint_url=f"http://127.0.0.1:{DEFAULT_PORT}",
        port=DEFAULT_PORT,
        bucket=DEFAULT_BUCKET,
        region=DEFAULT_REGION,
        access_key_id=DEFAULT_KEY.access_key_id,
        secret_access_key=DEFAULT_KEY.secret_access_key,
    )
    # The service is told only what boto3 reads in Lambda too, plus the bucket: nothing says "local".
    assert stage.content.service_environment().items() <= stage.environment.items()
    assert stage.environment["CONTENT_PREFIX"] == "", "content/ holds one folder per slug at the bucket's root"


@pytest.mark.parametrize(
    "endpoint", ["https://127.0.0.1:8788", "http://localhost:8788", "http://10.0.0.5:8788", "http://127.0.0.1"]
)
def test_an_endpoint_that_is_not_a_loopback_port_is_refused(endpoint: str) -> None:
    environment = {**LocalStage.read().environment, "AWS_ENDPOINT_URL_S3": endpoint}

    with pytest.raises(SystemExit, match=re.escape("AWS_ENDPOINT_URL_S3 must be http://127.0.0.1:<port>")):
        LocalContent.from_environment(environment)


def test_the_developers_own_aws_session_and_profile_stay_out_of_the_service() -> None:
    inherited = {
        "PATH": "/usr/bin",
        "AWS_SESSION_TOKEN": "their-session",
        "AWS_SECURITY_TOKEN": "their-old-session",
        "AWS_PROFILE": "work",
        "AWS_DEFAULT_PROFILE": "work",
        "AWS_CONFIG_FILE": "/home/dev/.aws/config",
    }

    assert service_process_environment(inherited) == {"PATH": "/usr/bin", "AWS_CONFIG_FILE": "/home/dev/.aws/config"}


def test_the_endpoint_process_reports_where_it_serves_once_the_folder_is_in_the_bucket(tmp_path: Path) -> None:
    (tmp_path / "a-course").mkdir()
    (tmp_path / "a-course" / "lesson.html").write_bytes(b"<h1>seeded before ready</h1>")
    secret = "a-secret-for-this-test-only"
    content = dataclasses.replace(LocalStage.read().content, secret_access_key=secret)
    started = spawn_local_s3(content, port=0, folder=tmp_path, echo=False)
    try:
        url = started.wait_until_serving()
        signer = s3_client(url, region=content.region, key=AccessKey(content.access_key_id, secret))
        lesson = requests.get(presign(signer, content.bucket, "a-course/lesson.html"), timeout=10)
        forged = s3_client(url, region=content.region, key=DEFAULT_KEY)
        refused = requests.get(presign(forged, content.bucket, "a-course/lesson.html"), timeout=10)
    finally:
        started.process.terminate()
        started.process.wait(timeout=10)

    assert lesson.status_code == 200
    assert lesson.content == b"<h1>seeded before ready</h1>"
    # The secret reached the endpoint through the environment: the public default key no longer signs for it.
    assert refused.status_code == 403


def test_an_endpoint_that_cannot_start_is_reported_not_waited_for(tmp_path: Path) -> None:
    started = spawn_local_s3(LocalStage.read().content, port=0, folder=tmp_path / "missing", echo=False)

    with pytest.raises(RuntimeError, match="exited with status 2 before it was ready"):
        started.wait_until_serving(timeout=30)
