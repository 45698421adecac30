"""A token bucket shaped like Auth0's Management API limit, and the headers it answers with."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may proceed, and the ``x-ratelimit-*`` headers to answer with."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    @property
    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; each request takes one.

    ``x-ratelimit-reset`` is the unix second (rounded up) at which the bucket holds a token
    again when it is empty, and at which it is full again otherwise.
    """

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.time) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError("rate must be a positive number of requests per second")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> RateDecision:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            allowed = self._tokens >= 1.0
            if allowed:
                self._tokens -= 1.0
            remaining = math.floor(self._tokens)
            if remaining >= 1:
                refill_at = now + (self.burst - self._tokens) / self.rate
            else:
                refill_at = now + (1.0 - self._tokens) / self.rate
            return RateDecision(allowed=allowed, limit=self.burst, remaining=remaining, reset=math.ceil(refill_at))


class RateLimiter:
    """The Management API's limit, off by default and reconfigurable while serving."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._bucket: TokenBucket | None = None

    @property
    def settings(self) -> tuple[float, int] | None:
        bucket = self._bucket
        return None if bucket is None else (bucket.rate, bucket.burst)

    def configure(self, rate: float | None, burst: int | None = None) -> None:
        """Limit to ``rate`` requests per second with ``burst`` (default: rate rounded up); None: off."""
        if rate is None:
            self._bucket = None
            return
        self._bucket = TokenBucket(rate, burst if burst is not None else max(1, math.ceil(rate)), clock=self._clock)

    def take(self) -> RateDecision | None:
        """The decision for one request, or None when no limit is configured."""
        bucket = self._bucket
        return None if bucket is None else bucket.take()
