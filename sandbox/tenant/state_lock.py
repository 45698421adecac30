"""One process per state file: an exclusive ``flock`` on ``STATE.lock``, held while a sandbox serves it.

Each sandbox keeps its tenant in memory and writes the whole document on every change, so two
of them on one file silently undo each other's writes; a CLI ``reset`` under a running server
changes a file the server never reads again. The lock file stays behind on purpose: deleting a
lock file while another process waits on it would let two holders in.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sandbox.tenant.state_file import StateFileError


class StateFileInUse(StateFileError):
    """Another process holds the state file's lock."""

    def __init__(self, state_path: Path, lock_path: Path, holder: int | None) -> None:
        self.state_path = state_path
        self.lock_path = lock_path
        self.holder = holder
        who = f"pid {holder}" if holder is not None else "another process"
        super().__init__(f"{state_path} is in use by a running sandbox ({who}, lock {lock_path})")


def lock_path_for(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class StateLock:
    """Holds the lock until ``release`` (or until the process ends: the kernel drops it then)."""

    def __init__(self, state_path: Path, handle: IO[str]) -> None:
        self.state_path = state_path
        self._handle: IO[str] | None = handle

    @classmethod
    def acquire(cls, state_path: Path | str) -> StateLock:
        """Take the lock without waiting; raise StateFileInUse naming the holder's pid."""
        state = Path(state_path)
        lock_path = lock_path_for(state)
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a+", encoding="ascii")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise StateFileInUse(state, lock_path, int(holder) if holder.isdigit() else None) from None
        except BaseException:
            handle.close()
            raise
        # Only the holder writes its pid, so whoever is refused can name it.
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(state, handle)

    @property
    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        """Let go (idempotent); the pid is cleared first so a stale number is never reported."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            handle.close()
