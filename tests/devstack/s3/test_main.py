"""``python -m devstack.s3``: serves until SIGTERM, takes its secret from the environment, never prints it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.s3 import DEFAULT_BUCKET, DEFAULT_KEY, DEFAULT_REGION, AccessKey, LocalS3, s3_client
from devstack.s3.config import DEFAULT_SECRET_ACCESS_KEY, REPOSITORY, SECRET_ENVIRONMENT_VARIABLE
from tests.devstack.s3.conftest import presign
from tests.documentation import documentation_text

SERVING = re.compile(r"local-s3: serving (http://127\.0\.0\.1:\d+), bucket (\S+) \((\d+) objects from ")


def serve(content: Path, environment: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "devstack.s3", "--port", "0", "--content", str(content)],
        cwd=REPOSITORY,
        env={**os.environ, **environment, "PYTHONPATH": str(REPOSITORY)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def content(tmp_path: Path) -> Path:
    (tmp_path / "serverless-handbook").mkdir()
    (tmp_path / "serverless-handbook" / "a.txt").write_bytes(b"served by the command")
    return tmp_path


def client_for(url: str, secret: str) -> Any:
    return s3_client(url, region=DEFAULT_REGION, key=AccessKey(DEFAULT_KEY.access_key_id, secret))


def test_the_command_serves_the_folder_with_the_secret_from_the_environment_until_sigterm(content: Path) -> None:
    process = serve(content, {SECRET_ENVIRONMENT_VARIABLE: "secret-from-the-environment"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = SERVING.match(line)
        assert match is not None, line
        url, bucket, count = match.groups()
        key = "serverless-handbook/a.txt"

        good = requests.get(presign(client_for(url, "secret-from-the-environment"), bucket, key), timeout=10)
        default = requests.get(presign(client_for(url, DEFAULT_SECRET_ACCESS_KEY), bucket, key), timeout=10)
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        _, errors = process.communicate(timeout=10)

    assert (bucket, count) == (DEFAULT_BUCKET, "1")
    assert (good.status_code, good.content) == (200, b"served by the command")
    assert default.status_code == 403
    assert exit_code == 0, errors
    assert "secret-from-the-environment" not in line + errors
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


def test_a_port_in_use_exits_2_with_a_message(content: Path) -> None:
    with LocalS3(bucket="course-content-port") as taken:
        port = taken.port
        process = subprocess.run(
            [sys.executable, "-m", "devstack.s3", "--port", str(port), "--content", str(content)],
            cwd=REPOSITORY,
            env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert process.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in process.stderr


def test_the_documented_devstack_s3_commands_parse() -> None:
    from devstack.s3.__main__ import _parser

    commands = re.findall(r"\.venv/bin/python -m devstack\.s3([^`#\n]*)", documentation_text())

    assert commands
    for arguments in commands:
        _parser().parse_args(arguments.split())
