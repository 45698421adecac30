"""The real service against the Auth0 sandbox over loopback HTTP, in-process or as `chalice local`."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from devstack.stack import LocalStage
from sandbox.server import SandboxServer
from tests.purchase_support import form_body

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = "chalicelib/courses.local.json"
PING_SECRET = "integration-ping-secret"
POST_LOGIN_SECRET = "integration-post-login-secret"
SELLER_ID = "kL0psVL2admJSYRNs-OCMg=="
AUDIENCE = "https://courses.local/api"
HANDBOOK = "serverless-handbook"
MEMBERSHIP = "pro-membership"
GUMROAD_RETRY_STATUSES = frozenset({499, 500, 502, 503, 504})


def service_environment(sandbox: SandboxServer) -> dict[str, str]:
    """The environment of the `local` stage, pointed at this sandbox's ephemeral port, with its lessons' settings
    (the S3 endpoint is a test's own: without one, URLs are signed for AWS's host and never fetched)."""
    stage = LocalStage.read()
    lessons = {
        name: value for name, value in stage.content.service_environment().items() if name != "AWS_ENDPOINT_URL_S3"
    }
    return {
        **lessons,
        "CONTENT_PREFIX": stage.environment["CONTENT_PREFIX"],
        "AUTH0_DOMAIN": sandbox.base_url,
        "AUTH0_CLIENT_ID": sandbox.client_id,
        "AUTH0_CLIENT_SECRET": "sandbox-m2m-client-secret-not-a-real-secret",
        "GUMROAD_PING_SECRET": PING_SECRET,
        "GUMROAD_SELLER_ID": SELLER_ID,
        "COURSES_FILE": CATALOGUE,
        "AUTH0_AUDIENCE": AUDIENCE,
        "AUTH0_LOGIN_CLIENT_ID": sandbox.login_client_id,
        "AUTH0_LOGIN_CLIENT_SECRET": "sandbox-login-client-secret-not-a-real-secret",
        "POST_LOGIN_SECRET": POST_LOGIN_SECRET,
    }


gumroad_body = form_body  # recorded Gumroad bodies with fields changed (None removes one)


def new_sale_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()


def basic_auth() -> dict[str, str]:
    token = base64.b64encode(f"gumroad:{PING_SECRET}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Delivery:
    """What Gumroad saw for one event: every status it got, in order."""

    statuses: list[int] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)

    @property
    def final(self) -> int:
        return self.statuses[-1]


def connect_post_login(sandbox: SandboxServer, service_url: str) -> None:
    """Point the tenant's post-login Action at the service, as `ops tenant apply` would set its secrets."""
    for action in sandbox.tenant.actions.bound("post-login"):
        secrets = {"POST_LOGIN_URL": f"{service_url}/auth0/post-login", "POST_LOGIN_SECRET": POST_LOGIN_SECRET}
        sandbox.tenant.actions.set_secrets(action.id, secrets)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ChaliceLocal:
    """`chalice local` serving this repository's app in a throwaway project whose `local` stage
    points at the sandbox (the repository's own `.chalice/config.json` pins port 8787), run as
    `make run` runs it: through devstack.gateway, which gives the app API Gateway's whole event."""

    base_url: str
    process: subprocess.Popen[bytes]

    def ping(self, body: str) -> requests.Response:
        return requests.post(f"{self.base_url}/gumroad/ping", data=body, headers=basic_auth(), timeout=30)

    def get(self, path: str, token: str) -> requests.Response:
        return requests.get(f"{self.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)


@contextmanager
def chalice_local(
    sandbox: SandboxServer, tmp_path: Path, *, environment: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[ChaliceLocal]:
    """``environment`` adds to (or overrides) the local stage's variables, e.g. CORS_ALLOW_ORIGIN; ``port``: a
    free port chosen beforehand (something made before the service starts must know its URL)."""
    project = tmp_path / "project"
    (project / ".chalice").mkdir(parents=True)
    (project / "app.py").symlink_to(ROOT / "app.py")
    (project / "chalicelib").symlink_to(ROOT / "chalicelib")
    config = {
        "version": "2.0",
        "app_name": "gumroad-auth0-gate",
        "stages": {"local": {"environment_variables": {**service_environment(sandbox), **(environment or {})}}},
    }
    (project / ".chalice" / "config.json").write_text(json.dumps(config))
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "devstack.gateway",
        "--project-dir",
        str(project),
        "--stage",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    # Nothing of this machine's own settings: AWS ones included (a session token or profile would sign lesson URLs).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTH0_", "GUMROAD_", "COURSES_", "CONTENT_", "AWS_"))
    }
    # devstack is the repository's, not the throwaway project's.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    service = ChaliceLocal(base_url=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_for(f"{service.base_url}/courses", process)
        connect_post_login(sandbox, service.base_url)
        yield service
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chalice local exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("chalice local did not start in time")
