"""One sandbox per state file: a second server, or a CLI reset under a running one, is refused
with a message that names the file and the running server's pid, and changes nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sandbox.__main__ import main as sandbox_cli
from sandbox.server import SandboxServer
from sandbox.tenant.state_file import StateFileError
from sandbox.tenant.state_lock import StateFileInUse

REPOSITORY = Path(__file__).resolve().parents[3]
TIMEOUT = 5.0
STARTUP_SECONDS = 30


def serve(state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--state", str(state), "--quiet"],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """`python -m sandbox serve` on a state file in tmp_path, with one user; its process and base URL."""
    state = tmp_path / "state.json"
    process = serve(state)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert found is not None, banner + (process.stderr.read() if process.stderr else "")
        base_url = found.group(0)
        seeded = requests.post(f"{base_url}/sandbox/users", json={"email": "kept@example.com"}, timeout=TIMEOUT)
        assert seeded.status_code == 201, seeded.text
        yield process, base_url, state
    finally:
        process.terminate()
        process.wait(timeout=10)


def emails_in(state: Path) -> list[str]:
    return [user["email"] for user in json.loads(state.read_text(encoding="utf-8"))["users"]]


def test_a_second_serve_on_the_same_state_exits_naming_the_file_and_the_running_pid(
    running: tuple[subprocess.Popen[str], str, Path],
) -> None:
    first, base_url, state = running

    second = serve(state)
    _, error = second.communicate(timeout=STARTUP_SECONDS)

    assert second.returncode == 2
    assert f"{state} is in use by a running sandbox (pid {first.pid}" in error
    assert "give this one its own --state" in error
    assert requests.get(f"{base_url}/sandbox/users", timeout=TIMEOUT).status_code == 200, "the first one serves on"
    assert emails_in(state) == ["kept@example.com"]


def test_the_cli_reset_under_a_running_server_is_refused_and_points_at_the_reset_endpoint(
    running: tuple[subprocess.Popen[str], str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, base_url, state = running

    code = sandbox_cli(["reset", "--state", str(state)])

    error = capsys.readouterr().err
    assert code == 1
    assert f"pid {first.pid}" in error
    assert f"POST -H 'Content-Type: application/json' {base_url}/sandbox/reset" in error
    assert emails_in(state) == ["kept@example.com"]
    users = requests.get(f"{base_url}/sandbox/users", timeout=TIMEOUT).json()["users"]
    assert [user["email"] for user in users] == ["kept@example.com"]


def test_the_cli_reset_works_once_the_server_has_stopped(
    running: tuple[subprocess.Popen[str], str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, _, state = running
    first.terminate()
    first.wait(timeout=10)

    assert sandbox_cli(["reset", "--state", str(state)]) == 0
    assert emails_in(state) == []


def test_in_process_servers_share_the_rule_and_stop_releases_the_lock(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(state_path=state), pytest.raises(StateFileInUse, match=re.escape(str(state))):
        SandboxServer(state_path=state)
    with SandboxServer(state_path=state) as again:
        assert again.base_url.startswith("http://127.0.0.1:")


def test_a_server_that_failed_to_load_its_state_leaves_the_lock_free(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{broken", encoding="utf-8")
    with pytest.raises(StateFileError, match="sandbox reset"):
        SandboxServer(state_path=state)
    assert sandbox_cli(["reset", "--state", str(state)]) == 0
