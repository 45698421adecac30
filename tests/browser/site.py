"""The example SPA built for a test's servers and served as static files on an ephemeral loopback port (with the
headers the stack's CloudFront adds, when given), or served by Vite's dev server as `make run` does."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import requests

from tests.integration.harness import ROOT, free_port

SPA_DIR = ROOT / "spa"
VITE = SPA_DIR / "node_modules" / ".bin" / "vite"
BUILD_TIMEOUT_SECONDS = 180


def require(ready: bool, reason: str) -> None:
    """Skip with ``reason``, or fail under CI=true: CI must run the browser tests, never skip them."""
    if ready:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run: {reason} (CI=true; run `make test`, which installs it)")
    pytest.skip(f"browser tests skipped: {reason} (`make test` installs it; CI=true makes this a failure)")


class SpaBuildFailed(RuntimeError):
    """`vite build` exited non-zero; the message carries its output."""


def build_spa(out_dir: Path, settings: Mapping[str, str]) -> None:
    """`vite build` into ``out_dir`` with ``settings`` (VITE_* variables) taking precedence over spa/.env* files."""
    command = [str(VITE), "build", "--outDir", str(out_dir), "--emptyOutDir", "--logLevel", "warn"]
    environment = {**os.environ, **settings}
    done = subprocess.run(
        command, cwd=SPA_DIR, env=environment, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS
    )
    if done.returncode != 0:
        raise SpaBuildFailed(f"vite build exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


@contextmanager
def dev_server(settings: Mapping[str, str]) -> Iterator[str]:
    """Vite's dev server (what `make run` starts) on a free loopback port with ``settings``; its URL."""
    port = free_port()
    command = [str(VITE), "--host", "127.0.0.1", "--port", str(port), "--strictPort", "--logLevel", "warn"]
    server = subprocess.Popen(
        command, cwd=SPA_DIR, env={**os.environ, **settings}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                server.terminate()
                said = server.communicate(timeout=10)[1].decode(errors="replace")
                raise SpaBuildFailed(f"vite did not serve {url}: {said}")
            time.sleep(0.2)
        yield url
    finally:
        if server.poll() is None:
            server.terminate()
            server.communicate(timeout=10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


class _QuietHandler(SimpleHTTPRequestHandler):
    """Files from the site's folder, each answer with the site's extra headers (CloudFront's, in the tests)."""

    def __init__(self, *args: Any, extra_headers: Mapping[str, str], **kwargs: Any) -> None:
        self._extra_headers = extra_headers
        super().__init__(*args, **kwargs)

    def end_headers(self) -> None:
        for name, value in self._extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """No line per request: the test's output stays readable."""


class StaticSite:
    """A directory served over HTTP on 127.0.0.1:<ephemeral>.

    The port is bound in the constructor so the SPA's origin is known before it is built: the
    sandbox (allowed callback/web origins) and the service (CORS) are configured with it first. ``headers``
    go with every answer; they may be filled in once the other servers' origins are known.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.headers: dict[str, str] = {}
        handler = functools.partial(_QuietHandler, directory=str(root), extra_headers=self.headers)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="spa-static", daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)
