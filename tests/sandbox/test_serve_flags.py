"""``python -m sandbox serve --spa-origin URL --access-token-lifetime SECONDS``, run as a real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.sandbox.browser import TIMEOUT

REPOSITORY = Path(__file__).resolve().parent.parent.parent


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
