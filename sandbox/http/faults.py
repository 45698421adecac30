"""Fault injection: the next N matching requests fail with a 5xx (or 429), or arrive late."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.errors import bad_request
from sandbox.http.wire import json_type

MAX_DELAY_SECONDS = 30.0
DEFAULT_PREFIX = "/api/v2/"


@dataclass
class Fault:
    """``status`` None only delays; ``paths`` are path prefixes; ``method`` None matches any."""

    status: int | None
    remaining: int
    paths: tuple[str, ...]
    delay_seconds: float
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return any(path.startswith(prefix) for prefix in self.paths)

    def describe(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "remaining": self.remaining,
            "paths": list(self.paths),
            "delay_seconds": self.delay_seconds,
            "method": self.method,
        }


def parse_fault(body: Mapping[str, Any]) -> Fault:
    """A fault from ``POST /sandbox/faults``; raise an Auth0-shaped 400 for a bad one."""
    unknown = set(body) - {"status", "count", "paths", "delay_seconds", "method"}
    if unknown:
        raise bad_request(f"unknown properties: {', '.join(sorted(unknown))}")
    status = body.get("status", 500)
    if status is not None and (json_type(status) != "integer" or not (status == 429 or 500 <= status <= 599)):
        raise bad_request("status must be 429, an integer from 500 to 599, or null (delay only)")
    count = body.get("count", 1)
    if json_type(count) != "integer" or count < 1:
        raise bad_request("count must be a positive integer")
    delay = body.get("delay_seconds", 0)
    if json_type(delay) not in ("integer", "number") or not 0 <= delay <= MAX_DELAY_SECONDS:
        raise bad_request(f"delay_seconds must be a number from 0 to {MAX_DELAY_SECONDS:g}")
    if status is None and delay == 0:
        raise bad_request("a fault needs a status, a delay, or both")
    method = body.get("method")
    if method is not None and (not isinstance(method, str) or not method):
        raise bad_request("method must be an HTTP method such as POST")
    return Fault(
        status=status,
        remaining=count,
        paths=_prefixes(body.get("paths", DEFAULT_PREFIX)),
        delay_seconds=float(delay),
        method=method.upper() if method else None,
    )


def _prefixes(paths: Any) -> tuple[str, ...]:
    entries = [paths] if isinstance(paths, str) else paths
    if not isinstance(entries, list) or not entries:
        raise bad_request("paths must be a path prefix or a non-empty list of them")
    for entry in entries:
        if not isinstance(entry, str) or not entry.startswith("/") or entry.startswith("/sandbox"):
            raise bad_request("every path must start with / and must not be a /sandbox path")
    return tuple(entries)


class FaultPlan:
    """Faults waiting to happen, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, with one use taken from it."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._faults]
