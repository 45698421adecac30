"""The local stack: the Auth0 sandbox, the local S3 endpoint, `chalice local --stage local` and the example SPA,
started and stopped as one."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
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
CONTENT_DIR = ROOT / "content"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class LocalContent:
    """The S3 endpoint the local stage's standard AWS settings point boto3 at, and how to serve it.

    The service reads the same variables as boto3 does in Lambda (``AWS_ENDPOINT_URL_S3``, the key pair,
    ``AWS_REGION``) plus ``CONTENT_BUCKET``: nothing in chalicelib knows the endpoint is local.
    """

    endpoint_url: str
    port: int
    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> LocalContent:
        endpoint = urlsplit(environment["AWS_ENDPOINT_URL_S3"])
        if endpoint.scheme != "http" or endpoint.hostname != "127.0.0.1" or endpoint.port is None:
            raise SystemExit("the local stage's AWS_ENDPOINT_URL_S3 must be http://127.0.0.1:<port> (devstack.s3)")
        return cls(
            endpoint_url=f"http://127.0.0.1:{endpoint.port}",
            port=endpoint.port,
            bucket=environment["CONTENT_BUCKET"],
            region=environment["AWS_REGION"],
            access_key_id=environment["AWS_ACCESS_KEY_ID"],
            secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        )

    def service_environment(self) -> dict[str, str]:
        """The variables that point the service (boto3, through the environment alone) at this endpoint."""
        return {
            "CONTENT_BUCKET": self.bucket,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }


@dataclass(frozen=True)
class LocalStage:
    """What the `local` stage of .chalice/config.json says the service expects."""

    sandbox_port: int
    ping_secret: str
    environment: dict[str, str]
    content: LocalContent

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
        return cls(
            sandbox_port=domain.port,
            ping_secret=environment["GUMROAD_PING_SECRET"],
            environment=environment,
            content=LocalContent.from_environment(environment),
        )


@dataclass
class Stack:
    sandbox_url: str
    service_url: str
    processes: list[subprocess.Popen[bytes]]
    spa_url: str | None = None
    content_url: str | None = None

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop(process)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


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


def start_stack(
    *,
    service_port: int,
    sandbox_port: int | None = None,
    sandbox_state: Path | None = None,
    content_port: int | None = None,
    quiet_sandbox: bool = False,
    with_spa: bool = False,
) -> Stack:
    """Start the sandbox and the local S3 endpoint (on the local stage's ports unless ``sandbox_port`` or
    ``content_port``: the service's AUTH0_DOMAIN and AWS_ENDPOINT_URL_S3 follow them), then the service, then
    (``with_spa``) the SPA's dev server; all stop with ``Stack.stop``."""
    stage = LocalStage.read()
    content = stage.content
    sandbox_port = stage.sandbox_port if sandbox_port is None else sandbox_port
    content_port = content.port if content_port is None else content_port
    ports = [(sandbox_port, "the sandbox"), (content_port, "the local S3 endpoint")]
    ports.append((service_port, "the service"))
    if with_spa:
        ports.append((SPA_PORT, "the SPA"))
    for port, what in ports:
        if not port_is_free(port):
            raise RuntimeError(f"port {port} for {what} is already in use (is `make run` already running?)")
    sandbox_command = _sandbox_command(sandbox_port, service_port, state=sandbox_state, quiet=quiet_sandbox)
    stack = Stack(
        sandbox_url=f"http://127.0.0.1:{sandbox_port}",
        service_url=f"http://127.0.0.1:{service_port}",
        processes=[],
    )
    try:
        sandbox = _spawn(sandbox_command)
        stack.processes.append(sandbox)
        # The SPA reads text lessons with fetch(): the bucket's CORS rule names its origin, as the template's does.
        cors_origin = stage.environment.get("CORS_ALLOW_ORIGIN", "")
        lessons = spawn_local_s3(content, port=content_port, cors_origins=[cors_origin] if cors_origin else [])
        stack.processes.append(lessons.process)
        wait_until_answering(f"{stack.sandbox_url}/.well-known/openid-configuration", sandbox, "the sandbox")
        overrides = {}  # what the stage's settings say differently from the ports in use
        if sandbox_port != stage.sandbox_port:
            overrides["AUTH0_DOMAIN"] = stack.sandbox_url
        if content_port != content.port:
            overrides["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{content_port}"
        service = _spawn(_service_command(service_port, overrides), environment=service_process_environment(os.environ))
        stack.processes.append(service)
        if with_spa:  # started while chalice local starts: they do not depend on each other
            stack.spa_url = f"http://127.0.0.1:{SPA_PORT}"
            spa = _spawn(_spa_command(), cwd=SPA_DIR)
            stack.processes.append(spa)
        stack.content_url = lessons.wait_until_serving()
        wait_until_answering(f"{stack.service_url}/courses", service, "chalice local")
        if with_spa:
            wait_until_answering(f"{stack.spa_url}/", spa, "the SPA (vite)")
    except BaseException:
        stack.stop()
        raise
    return stack


def _sandbox_command(port: int, service_port: int, *, state: Path | None, quiet: bool) -> list[str]:
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port)]
    # Short-lived user tokens, so a refund shows in the SPA at its next refresh (sandbox/README.md).
    command += ["--access-token-lifetime", str(LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS)]
    if state is not None:
        command += ["--state", str(state)]
    # The post-login Action asks the service on this port (its secret is the local stage's POST_LOGIN_SECRET).
    command += ["--post-login-url", f"http://127.0.0.1:{service_port}/auth0/post-login"]
    if quiet:
        command.append("--quiet")
    return command


def _service_command(port: int, overrides: Mapping[str, str]) -> list[str]:
    """chalice local, with API Gateway's whole event and a backlog for bursts (devstack/gateway.py)."""
    command = [sys.executable, "-m", "devstack.gateway", "--project-dir", str(ROOT), "--stage", LOCAL_STAGE]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    for name, value in overrides.items():
        command += ["--set", f"{name}={value}"]
    return command


def service_process_environment(inherited: Mapping[str, str]) -> dict[str, str]:
    """The service's environment: the local stage sets the key pair, so a session token or profile of the developer's
    own AWS account must not ride along (the local endpoint would refuse the token, S3 would get the wrong key)."""
    return {name: value for name, value in inherited.items() if name not in _FOREIGN_AWS_SETTINGS}


_FOREIGN_AWS_SETTINGS = frozenset({"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"})


class LocalS3Process:
    """``python -m devstack.s3`` in its own process (moto's backends are process-wide: see devstack/s3/endpoint.py),
    ready once it prints where it serves, after seeding the bucket."""

    def __init__(self, process: subprocess.Popen[bytes], *, echo: bool) -> None:
        self.process = process
        self._echo = echo
        self._served: list[str] = []
        self._said = threading.Event()
        self._reader = threading.Thread(target=self._read, name="local-s3-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:  # drained to the end, so the endpoint never blocks on a full pipe
            line = raw.decode("utf-8", "replace")
            found = _SERVING.search(line)
            if found and not self._said.is_set():
                self._served.append(found.group(1))
                self._said.set()
            if self._echo:
                sys.stdout.write(line)
                sys.stdout.flush()
        self._said.set()

    def wait_until_serving(self, timeout: float = READY_TIMEOUT_SECONDS) -> str:
        """The endpoint's URL, once its bucket is seeded; RuntimeError when it exits or stays silent."""
        if not self._said.wait(timeout):
            raise RuntimeError(f"the local S3 endpoint did not start within {timeout:.0f} s")
        if not self._served:
            raise RuntimeError(f"the local S3 endpoint exited with status {self.process.wait()} before it was ready")
        return self._served[0]


_SERVING = re.compile(r"local-s3: serving (http://127\.0\.0\.1:\d+)")


def spawn_local_s3(
    content: LocalContent,
    *,
    port: int,
    folder: Path = CONTENT_DIR,
    cors_origins: Sequence[str] = (),
    echo: bool = True,
) -> LocalS3Process:
    """Serve ``folder`` as ``content``'s bucket on ``port`` (0: a free one) with ``content``'s key pair."""
    from devstack.s3.config import SECRET_ENVIRONMENT_VARIABLE

    command = [sys.executable, "-m", "devstack.s3", "--port", str(port), "--content", str(folder)]
    command += ["--bucket", content.bucket, "--region", content.region, "--access-key-id", content.access_key_id]
    for origin in cors_origins:
        command += ["--cors-origin", origin]
    # The secret travels in the environment, never on the command line (ps shows every process's arguments).
    environment = {**os.environ, SECRET_ENVIRONMENT_VARIABLE: content.secret_access_key}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, preexec_fn=_die_with_parent
    )
    return LocalS3Process(process, echo=echo)


def _spa_command() -> list[str]:
    # Vite's dev server, not a build: edits under spa/src show at once, and it starts in about a second.
    # clearScreen off, or it would wipe the next-steps text printed above it.
    vite = SPA_DIR / "node_modules" / ".bin" / "vite"
    if not vite.exists():
        raise RuntimeError("spa/node_modules is missing: run `make run` (it runs npm ci in spa/) or `cd spa && npm ci`")
    return [str(vite), "--host", "127.0.0.1", "--port", str(SPA_PORT), "--strictPort", "--clearScreen", "false"]


def _spawn(
    command: Sequence[str], *, cwd: Path = ROOT, environment: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(command), cwd=cwd, env=environment, preexec_fn=_die_with_parent)  # noqa: S603


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


def free_ports(count: int) -> list[int]:
    """``count`` different ports nothing listens on now (the OS's picks, all held until each is picked): what
    `make demo` serves on, beside `make run`'s fixed ones."""
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
