"""Counters of what the sandbox received and answered, so tests can count calls."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Requests per endpoint (``"POST /api/v2/users"``), statuses, 429s sent and faults injected.

    ``/sandbox/`` requests are not counted: they are the test's own, not the service's.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._families: Counter[str] = Counter()
        self._rate_limited = 0
        self._faults = 0

    def request(self, family: str, endpoint: str) -> None:
        with self._lock:
            self._requests[endpoint] += 1
            self._families[family] += 1

    def answered(self, status: int) -> None:
        with self._lock:
            self._statuses[str(status)] += 1
            if status == 429:
                self._rate_limited += 1

    def fault_injected(self) -> None:
        with self._lock:
            self._faults += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(sorted(self._requests.items())),
                "management_requests": self._families["management"],
                "authentication_requests": self._families["authentication"],
                "responses": dict(sorted(self._statuses.items())),
                "rate_limited": self._rate_limited,
                "faults_injected": self._faults,
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._statuses.clear()
            self._families.clear()
            self._rate_limited = 0
            self._faults = 0
