"""The state file: JSON, written atomically (temp file + rename) so a crash never leaves half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATE_VERSION = 1


class StateFileError(Exception):
    """The state file exists but cannot be used."""


class StateFile:
    """Reads and writes the sandbox's state document; ``path=None`` keeps everything in memory."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = None if path is None else Path(path)

    def load(self) -> dict[str, Any] | None:
        """The saved document, or None when there is no file (or no path)."""
        if self.path is None or not self.path.exists():
            return None
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateFileError(
                f"cannot read the sandbox state {self.path} ({exc}); run `python -m sandbox reset`"
            ) from exc
        if not isinstance(document, dict) or document.get("version") != STATE_VERSION:
            raise StateFileError(
                f"{self.path} is not a sandbox state file of version {STATE_VERSION}; run `python -m sandbox reset`"
            )
        return document

    def save(self, document: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({**document, "version": STATE_VERSION}, indent=2, sort_keys=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def delete(self) -> bool:
        """Remove the file; True when there was one."""
        if self.path is None or not self.path.exists():
            return False
        self.path.unlink()
        return True
