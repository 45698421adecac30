"""Password sign-in attempts: the last ones, and the failures per user and IP that brute-force protection counts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sandbox.tenant.users import timestamp

KEPT_LOGINS = 100


class LoginAttempts:
    """Kept in the state file by the tenant, whose lock guards every call."""

    def __init__(self, *, max_failures: int, clock: Callable[[], float] = time.time) -> None:
        self.max_failures = max_failures
        self._clock = clock
        self.records: list[dict[str, Any]] = []
        self.failures: dict[str, int] = {}  # "email ip" -> consecutive failures

    def restore(self, records: list[dict[str, Any]], failures: dict[str, int]) -> None:
        self.records, self.failures = list(records), dict(failures)

    def clear(self) -> None:
        self.records.clear()
        self.failures.clear()

    def blocked(self, email: str, ip: str) -> bool:
        return self.failures.get(_attempt(email, ip), 0) >= self.max_failures

    def failed(self, email: str, ip: str) -> None:
        self.failures[_attempt(email, ip)] = self.failures.get(_attempt(email, ip), 0) + 1

    def succeeded(self, email: str, ip: str) -> None:
        self.failures.pop(_attempt(email, ip), None)

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
