"""Passwordless e-mail codes: six digits, one use, five minutes, three tries; kept in memory, as digests only."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.tenant.sign_ins import digest

CODE_DIGITS = 6
CODE_LIFETIME_SECONDS = 300
CODE_TRIES = 3


class CodeRejected(Exception):
    """A wrong, expired, used-up or unknown code; ``tries_left`` says whether the same code may be tried again."""

    def __init__(self, message: str, *, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


@dataclass
class _Pending:
    code_digest: str
    expires_at: float
    tries_left: int


class PasswordlessCodes:
    """One live code per address: asking again replaces it."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    def issue(self, email: str) -> tuple[str, float]:
        """A new code for ``email`` (the address as stored: lower-cased) and when it expires."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        expires_at = self._clock() + CODE_LIFETIME_SECONDS
        with self._lock:
            self._pending[email] = _Pending(digest(code), expires_at, CODE_TRIES)
        return code, expires_at

    def redeem(self, email: str, code: str) -> None:
        """Use the code up, or raise CodeRejected (a wrong code costs a try; the last wrong one ends it)."""
        with self._lock:
            pending = self._pending.get(email)
            if pending is None or pending.expires_at < self._clock():
                self._pending.pop(email, None)
                raise CodeRejected("This code has expired or was already used. Ask for a new one.", tries_left=0)
            if hmac.compare_digest(pending.code_digest, digest(code.strip())):
                del self._pending[email]
                return
            pending.tries_left -= 1
            if pending.tries_left <= 0:
                del self._pending[email]
                raise CodeRejected("Wrong code, and no tries are left. Ask for a new one.", tries_left=0)
            raise CodeRejected("Wrong code. Check the e-mail and try again.", tries_left=pending.tries_left)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
