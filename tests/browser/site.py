"""The example SPA built for a test's servers and served as static files on an ephemeral loopback port."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.integration.harness import ROOT

SPA_DIR = ROOT / "spa"
VITE = SPA_DIR / "node_modules" / ".bin" / "vite"
BUILD_TIMEOUT_SECONDS = 180


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


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line per request: the test's output stays readable."""


class StaticSite:
    """A directory served over HTTP on 127.0.0.1:<ephemeral>.

    The port is bound in the constructor so the SPA's origin is known before it is built: the
    sandbox (allowed callback/web origins) and the service (CORS) are configured with it first.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
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
