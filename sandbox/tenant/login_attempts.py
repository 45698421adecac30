"""Password sign-in attempts: the last ones, and the failures per user and IP that brute-force protection counts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sandbox.tenant.users import timestamp

KEPT_LOGINS = 100


class LoginAttempts:
    """Kept in the state file by the tenant, whose lock guards every call.

    A try is reserved (``reserve``) before the password is checked and settled after (``failed``,
    ``succeeded``, ``release``): checking the count, hashing outside the lock, then counting would let
    a burst of concurrent guesses all pass the check before the first failure lands. A try that the
    ones being checked might block waits for them, so a burst of right passwords is not refused.
    """

    def __init__(self, *, max_failures: int, clock: Callable[[], float] = time.time) -> None:
        self.max_failures = max_failures
        self._clock = clock
        self.records: list[dict[str, Any]] = []
        self.failures: dict[str, int] = {}  # "email ip" -> consecutive failures
        self._in_flight: dict[str, int] = {}  # "email ip" -> tries being checked now (never saved)

    def restore(self, records: list[dict[str, Any]], failures: dict[str, int]) -> None:
        self.records, self.failures = list(records), dict(failures)

    def clear(self) -> None:
        self.records.clear()
        self.failures.clear()

    def reserve(self, email: str, ip: str) -> bool | None:
        """Take one of the tries left before the password is checked.

        True: reserved. False: none is left (blocked). None: only the tries being checked now can tell
        (they would block it if they all fail), so ask again when one of them is settled.
        """
        key = _attempt(email, ip)
        failures, in_flight = self.failures.get(key, 0), self._in_flight.get(key, 0)
        if failures >= self.max_failures:
            return False
        if failures + in_flight >= self.max_failures:
            return None
        self._in_flight[key] = in_flight + 1
        return True

    def failed(self, email: str, ip: str) -> None:
        """A reserved try was a wrong password."""
        self.release(email, ip)
        self.failures[_attempt(email, ip)] = self.failures.get(_attempt(email, ip), 0) + 1

    def succeeded(self, email: str, ip: str) -> None:
        """A reserved try was the right password: the consecutive failures start again from zero."""
        self.release(email, ip)
        self.failures.pop(_attempt(email, ip), None)

    def release(self, email: str, ip: str) -> None:
        """Give a reserved try back without an outcome (the password was right, but the user is blocked)."""
        key = _attempt(email, ip)
        left = self._in_flight.pop(key, 0) - 1
        if left > 0:
            self._in_flight[key] = left

    def unblock(self, email: str) -> None:
        """Lift the block from every address: a new password is proof enough."""
        for key in [key for key in self.failures if key.startswith(email + " ")]:
            del self.failures[key]

    def record(self, email: str, ip: str, forwarded_for: str | None, client_id: str, outcome: str) -> None:
        self.records.append(
            {
                "at": timestamp(self._clock()),
                "email": email,
                "ip": ip,
                "forwarded_for": forwarded_for,
                "client_id": client_id,
                "outcome": outcome,
            }
        )
        del self.records[:-KEPT_LOGINS]


def _attempt(email: str, ip: str) -> str:
    return f"{email} {ip}"
