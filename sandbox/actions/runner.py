"""Run Actions in one long-lived Node process (``runtime.js``), with Auth0's time limit per execution.

A warm process, as Auth0 keeps warm containers: an Action's module is compiled once and executions run
side by side, each with its own ``api`` object and its own console lines (Node's ``AsyncLocalStorage``).
Starting Node for every login cost about 0.1 s of CPU each, which 40 simultaneous logins on 2 cores did
not survive. An execution that never ends (a synchronous loop blocks the whole process) is given up after
the limit: the process is killed, every execution in it fails, and the next login starts a new one.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import subprocess
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sandbox.tenant.actions import Action

RUNTIME = Path(__file__).resolve().with_name("runtime.js")
ACTION_SECONDS = 20.0  # Auth0 stops an Action after 20 s
_GRACE_SECONDS = 5.0  # for Node itself to answer, beyond the Action's own limit
_TIMED_OUT = "Script execution time exceeded"
log = logging.getLogger("sandbox.actions")


class ActionFailed(Exception):
    """The Action threw, timed out or could not run: the login fails, as at Auth0."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Execution:
    """What one run asked for (``commands``, in order) and what it printed."""

    commands: list[list[Any]]
    logs: list[str]


class NodeRunner:
    """Thread-safe; the Node process starts with the first execution and stops with ``close``."""

    def __init__(self, *, node: str | None = None, timeout_seconds: float = ACTION_SECONDS) -> None:
        self._node = node
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        # What each execution waits on, and the process it was sent to.
        self._pending: dict[int, tuple[subprocess.Popen[str], Future[dict[str, Any]]]] = {}
        self._ids = itertools.count()

    def run(self, action: Action, event: dict[str, Any]) -> Execution:
        answer: Future[dict[str, Any]] = Future()
        request = {
            "code": action.code,
            "filename": str(action.source or f"/actions/{action.name}.js"),
            "event": event,
            "timeout_ms": int(self.timeout_seconds * 1000),
        }
        with self._lock:
            process = self._started()
            ident = next(self._ids)
            self._pending[ident] = (process, answer)
            try:
                assert process.stdin is not None
                process.stdin.write(json.dumps({**request, "id": ident}) + "\n")
                process.stdin.flush()
            except OSError:
                self._pending.pop(ident, None)
                raise ActionFailed("the Action runtime is not running") from None
        try:
            result = answer.result(timeout=self.timeout_seconds + _GRACE_SECONDS)
        except FutureTimeout:
            self._stop(process, reason=_TIMED_OUT)
            raise ActionFailed(_TIMED_OUT) from None
        for line in result.get("logs", []):
            log.info("action %s: %s", action.name, line)
        if result.get("error") is not None:
            log.warning("action %s failed: %s", action.name, result["error"])
            raise ActionFailed(str(result["error"]))
        return Execution(commands=list(result.get("commands", [])), logs=list(result.get("logs", [])))

    def close(self) -> None:
        with self._lock:
            process = self._process
        if process is not None:
            self._stop(process, reason="the sandbox stopped")

    def _started(self) -> subprocess.Popen[str]:
        """The running Node process (started now if there is none); the caller holds the lock."""
        if self._process is not None and self._process.poll() is None:
            return self._process
        node = self._node or shutil.which("node")
        if node is None:
            raise ActionFailed("Node.js is not installed: the sandbox cannot run the post-login Action")
        try:
            process = subprocess.Popen(  # noqa: S603 - node and the sandbox's own runtime.js
                [node, str(RUNTIME)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
            )
        except OSError as failed:
            raise ActionFailed(f"Node.js could not start: {failed.strerror}") from None
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process, process.stdout), name="actions-runtime", daemon=True).start()
        self._process = process
        return process

    def _read(self, process: subprocess.Popen[str], stdout: IO[str]) -> None:
        """Hand each answer to the execution waiting for it; when Node exits, fail whatever is still waiting."""
        for line in stdout:
            try:
                answer = json.loads(line)
                waiting = self._take(int(answer["id"]))
            except (ValueError, KeyError, TypeError):
                continue
            if waiting is not None:
                waiting.set_result(answer)
        self._stop(process, reason="the Action runtime exited")

    def _take(self, ident: int) -> Future[dict[str, Any]] | None:
        with self._lock:
            entry = self._pending.pop(ident, None)
        return None if entry is None else entry[1]

    def _stop(self, process: subprocess.Popen[str], *, reason: str) -> None:
        with self._lock:
            if self._process is process:
                self._process = None
            mine = [ident for ident, (sent_to, _) in self._pending.items() if sent_to is process]
            waiting = [self._pending.pop(ident)[1] for ident in mine]
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        for future in waiting:
            if not future.done():
                future.set_result({"commands": [], "logs": [], "error": reason})
