"""A piece of work's deadline and the upstream requests it made: set by routes and the worker, read by adapters.

Shared plumbing below use cases and adapters alike: a ping's route or the queue worker opens an
``upstream_scope``, the purchase use cases wait for their turn within its deadline, and the Auth0
adapter sizes each request's timeout to it and counts its requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass
class Deadline:
    """A point in monotonic time by which the whole piece of work must be finished."""

    expires_at: float
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, *, clock: Clock = time.monotonic) -> Deadline:
        return cls(expires_at=clock() + seconds, clock=clock)

    def remaining(self) -> float:
        return self.expires_at - self.clock()


@dataclass
class CallStats:
    """Requests made to Auth0 while handling one ping (attempts, not operations)."""

    management: int = 0
    authentication: int = 0
    throttled: int = 0

    @property
    def total(self) -> int:
        return self.management + self.authentication


_DEADLINE: ContextVar[Deadline | None] = ContextVar("upstream_deadline", default=None)
_STATS: ContextVar[CallStats | None] = ContextVar("upstream_stats", default=None)


@contextmanager
def upstream_scope(deadline: Deadline) -> Iterator[CallStats]:
    """Run a piece of work under ``deadline``, counting its Auth0 requests."""
    stats = CallStats()
    deadline_token = _DEADLINE.set(deadline)
    stats_token = _STATS.set(stats)
    try:
        yield stats
    finally:
        _DEADLINE.reset(deadline_token)
        _STATS.reset(stats_token)


def current_deadline() -> Deadline | None:
    return _DEADLINE.get()


def current_stats() -> CallStats:
    stats = _STATS.get()
    return stats if stats is not None else CallStats()
