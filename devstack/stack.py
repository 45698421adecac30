"""The local stack: the Auth0 sandbox, `chalice local --stage local` and the example SPA, started and stopped as one."""

from __future__ import annotations

import contextlib
import ctypes
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sandbox.defaults import LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS

ROOT = Path(__file__).resolve().parent.parent
LOCAL_STAGE = "local"
DEFAULT_SERVICE_PORT = 8000
# The SPA's origin is fixed: the sandbox's SPA client and the local stage's CORS_ALLOW_ORIGIN allow exactly it.
SPA_PORT = 3000
SPA_DIR = ROOT / "spa"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class LocalStage:
    """What the `local` stage of .chalice/config.json says the service expects."""

    sandbox_port: int
    ping_secret: str
    environment: dict[str, str]

    @classmethod
    def read(cls, root: Path = ROOT) -> LocalStage:
        config = json.loads((root / ".chalice" / "config.json").read_text(encoding="utf-8"))
        environment = {
            **config.get("environment_variables", {}),
            **config["stages"][LOCAL_STAGE]["environment_variables"],
        }
        domain = urlsplit(environment["AUTH0_DOMAIN"])
        if domain.hostname != "127.0.0.1" or domain.port is None:
            raise SystemExit("the local stage's AUTH0_DOMAIN must be http://127.0.0.1:<port> (the sandbox)")
        return cls(sandbox_port=domain.port, ping_secret=environment["GUMROAD_PING_SECRET"], environment=environment)


@dataclass
class Stack:
    sandbox_url: str
    service_url: str
    processes: list[subprocess.Popen[bytes]]
    spa_url: str | None = None

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop(process)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def answers(url: str, *, timeout: float = 1.0) -> bool:
    """True once anything answers HTTP at ``url`` (an error status counts: the server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - loopback URL we built
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def wait_until_answering(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before it was ready")
        if answers(url):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer at {url} within {READY_TIMEOUT_SECONDS:.0f} s")


def start_stack(*, service_port: int, quiet_sandbox: bool = False, with_spa: bool = False) -> Stack:
    """Start the sandbox on the local stage's port, then the service, then (``with_spa``) the SPA's
    dev server; all stop with ``Stack.stop``."""
    stage = LocalStage.read()
    ports = [(stage.sandbox_port, "the sandbox"), (service_port, "the service")]
    if with_spa:
        ports.append((SPA_PORT, "the SPA"))
    for port, what in ports:
        if not port_is_free(port):
            raise RuntimeError(f"port {port} for {what} is already in use (is `make run` already running?)")
    sandbox_command = [sys.executable, "-m", "sandbox", "serve", "--port", str(stage.sandbox_port)]
    # Short-lived user tokens, so a refund shows in the SPA at its next refresh (sandbox/README.md).
    sandbox_command += ["--access-token-lifetime", str(LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS)]
    # The post-login Action asks the service on this port (its secret is the local stage's POST_LOGIN_SECRET).
    sandbox_command += ["--post-login-url", f"http://127.0.0.1:{service_port}/auth0/post-login"]
    if quiet_sandbox:
        sandbox_command.append("--quiet")
    stack = Stack(
        sandbox_url=f"http://127.0.0.1:{stage.sandbox_port}",
        service_url=f"http://127.0.0.1:{service_port}",
        processes=[],
    )
    try:
        sandbox = _spawn(sandbox_command)
        stack.processes.append(sandbox)
        wait_until_answering(f"{stack.sandbox_url}/.well-known/openid-configuration", sandbox, "the sandbox")
        # chalice local, with API Gateway's whole event and a backlog for bursts (devstack/gateway.py).
        service_command = [
            sys.executable,
            "-m",
            "devstack.gateway",
            "--project-dir",
            str(ROOT),
            "--stage",
            LOCAL_STAGE,
            "--host",
            "127.0.0.1",
            "--port",
            str(service_port),
        ]
        service = _spawn(service_command)
        stack.processes.append(service)
        if with_spa:  # started while chalice local starts: they do not depend on each other
            stack.spa_url = f"http://127.0.0.1:{SPA_PORT}"
            spa = _spawn(_spa_command(), cwd=SPA_DIR)
            stack.processes.append(spa)
        wait_until_answering(f"{stack.service_url}/courses", service, "chalice local")
        if with_spa:
            wait_until_answering(f"{stack.spa_url}/", spa, "the SPA (vite)")
    except BaseException:
        stack.stop()
        raise
    return stack


def _spa_command() -> list[str]:
    # Vite's dev server, not a build: edits under spa/src show at once, and it starts in about a second.
    # clearScreen off, or it would wipe the next-steps text printed above it.
    vite = SPA_DIR / "node_modules" / ".bin" / "vite"
    if not vite.exists():
        raise RuntimeError("spa/node_modules is missing: run `make run` (it runs npm ci in spa/) or `cd spa && npm ci`")
    return [str(vite), "--host", "127.0.0.1", "--port", str(SPA_PORT), "--strictPort", "--clearScreen", "false"]


def _spawn(command: Sequence[str], *, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(command), cwd=cwd, preexec_fn=_die_with_parent)  # noqa: S603


def _die_with_parent() -> None:
    # Ctrl-C reaches the whole process group: only the runner acts on it, and stops the
    # children in order. If the runner is killed outright, the kernel stops them: no orphans.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextlib.contextmanager
def running_stack(*, service_port: int, quiet_sandbox: bool = False, with_spa: bool = False) -> Iterator[Stack]:
    stack = start_stack(service_port=service_port, quiet_sandbox=quiet_sandbox, with_spa=with_spa)
    try:
        yield stack
    finally:
        stack.stop()
