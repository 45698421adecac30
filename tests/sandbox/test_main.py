"""``python -m sandbox serve | token | reset``, in process and as a real process."""

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
from tests.sandbox.support import PERMISSION, REPOSITORY, ROLE, TIMEOUT, api, create_buyer, service_verifier


def test_the_cli_prints_a_token_signed_with_the_key_in_the_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(state_path=state) as running:
        user_id = create_buyer(running)["user_id"]
        api(running, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
        assert sandbox_cli(["token", "buyer@example.com", "--state", str(state)]) == 0
        token = capsys.readouterr().out.strip()
        verified = service_verifier(running).verify(token)
        assert (verified.subject, verified.grants(PERMISSION)) == (user_id, True)
        assert sandbox_cli(["token", "nobody@example.com", "--state", str(state)]) == 1


def test_the_reset_command_forgets_users_and_keeps_the_key_unless_asked(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(state_path=state) as running:
        create_buyer(running)
    kid = json.loads(state.read_text(encoding="utf-8"))["signing_key"]["kid"]
    assert sandbox_cli(["reset", "--state", str(state)]) == 0
    after = json.loads(state.read_text(encoding="utf-8"))
    assert (after["users"], after["signing_key"]["kid"]) == ([], kid)
    assert sandbox_cli(["reset", "--state", str(state), "--new-key"]) == 0
    assert json.loads(state.read_text(encoding="utf-8"))["signing_key"]["kid"] != kid


def test_python_m_sandbox_serve_starts_on_the_given_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--state", str(tmp_path / "s.json"), "--quiet"],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert base_url is not None, banner
        jwks = requests.get(f"{base_url.group(0)}/.well-known/jwks.json", timeout=TIMEOUT)
        assert jwks.status_code == 200
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    command = [
        sys.executable, "-m", "sandbox", "serve", "--port", "0", "--quiet", "--state", str(tmp_path / "state.json"),
        "--spa-origin", "http://localhost:5173", "--spa-origin", "http://127.0.0.1:4173/",
        "--access-token-lifetime", "120",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Auth0 sandbox on http://127.0.0.1:"), first
        yield first.split()[3]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_allows_each_spa_origin_and_issues_people_tokens_for_the_given_lifetime(served: str) -> None:
    for origin, allowed in (
        ("http://localhost:5173", True),
        ("http://127.0.0.1:4173", True),
        ("http://127.0.0.1:3000", False),
    ):
        answer = requests.options(
            f"{served}/oauth/token",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=TIMEOUT,
        )
        assert (answer.status_code == 204) is allowed, origin
    config = requests.get(f"{served}/sandbox/state", timeout=TIMEOUT)
    assert config.status_code == 200
    seeded = requests.post(
        f"{served}/sandbox/users",
        json={"email": "buyer@example.com", "password": "correct horse battery"},
        timeout=TIMEOUT,
    )
    assert seeded.status_code == 201
    login = requests.post(
        f"{served}/oauth/token",
        json={
            "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
            "client_id": "sandbox-login-client",
            "client_secret": "sandbox-login-client-secret-not-a-real-secret",
            "username": "buyer@example.com",
            "password": "correct horse battery",
            "realm": "Username-Password-Authentication",
        },
        timeout=TIMEOUT,
    )
    assert (login.status_code, login.json()["expires_in"]) == (200, 120)


def test_serve_refuses_an_spa_origin_with_a_path(tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--state",
            state,
            "--spa-origin",
            "http://127.0.0.1:3000/app",
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "no path" in done.stderr
    assert not (tmp_path / "state.json").exists()
