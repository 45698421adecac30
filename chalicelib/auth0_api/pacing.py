"""Retry budgets and rate-limit pacing for calls to Auth0 (no HTTP here; the deadlines are ``chalicelib.deadlines``)."""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from chalicelib.deadlines import Clock, Deadline
from chalicelib.errors import UpstreamUnavailable


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before answering "retry later".

    Auth0's SDK retries blindly (409 included) and may sleep 60 s; the service turns that
    off and retries only what is transient, only while the deadline leaves room.
    """

    max_attempts: int = 4
    per_call_timeout: float = 2.5
    min_call_seconds: float = 0.3
    backoff_seconds: tuple[float, ...] = (0.1, 0.3, 0.9)

    def call_timeout(self, deadline: Deadline | None) -> float:
        """The timeout for the next request, or raise when too little time is left."""
        if deadline is None:
            return self.per_call_timeout
        remaining = deadline.remaining()
        if remaining < self.min_call_seconds:
            raise UpstreamUnavailable("the time allowed for this ping ran out before Auth0 answered")
        return min(self.per_call_timeout, remaining)

    def backoff(self, attempt: int) -> float:
        return self.backoff_seconds[min(attempt, len(self.backoff_seconds) - 1)]

    def fits(self, wait: float, deadline: Deadline | None) -> bool:
        """Whether sleeping ``wait`` seconds still leaves time for one more request."""
        if deadline is None:
            return True
        return deadline.remaining() - wait >= self.min_call_seconds


def rate_limit_wait(headers: Mapping[str, str] | None, *, now: float) -> float | None:
    """Seconds Auth0 asks us to wait, from ``Retry-After`` or ``x-ratelimit-reset`` (unix s)."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    retry_after = lowered.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    reset = lowered.get("x-ratelimit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


@dataclass
class RateLimitPacer:
    """Paces Management API calls so that a burst completes at the tenant's limit, not in 429s.

    Every answer's ``x-ratelimit-remaining``/``x-ratelimit-reset`` is read: when the bucket is
    empty the next call waits for the reset, and a 429's ``Retry-After`` is honoured. Auth0's
    reset is whole seconds, so on its own that over-waits by up to a second each time the
    bucket empties; when the tenant's rate is known (``rate``, ``burst``: AUTH0_RATE_LIMIT_*),
    a client-side token bucket of that shape spaces calls exactly and the headers only keep it
    in step with the server (an empty server bucket empties ours).

    One pacer serves every thread of a process (concurrent inline pings), and takes turns:

    * **earliest deadline first**: of the calls waiting, the one whose piece of work must end
      first goes next, so a ping that has started finishes before later pings start, instead
      of every ping advancing a little and all of them running out of time together;
    * **headers only, one call in flight**: without a known rate the headers are the only
      knowledge of the server's bucket, and they are exact only if no other call is under way
      (concurrent callers all saw "requests left" and were answered 429);
    * a call that cannot get its turn before its deadline leaves the line at once, having made
      no request (the ping answers 503 and Gumroad redelivers it).
    """

    rate: float | None = None
    burst: float = 1.0
    wall_clock: Clock = field(default_factory=lambda: time.time)
    sleep: Callable[[float], None] = field(default_factory=lambda: time.sleep)
    max_wait_seconds: float = 10.0
    _not_before: float = field(default=0.0, init=False)
    _tokens: float = field(default=0.0, init=False)
    _refilled_at: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _turns: threading.Condition = field(init=False)
    _waiting: list[tuple[float, int]] = field(default_factory=list, init=False)
    _tickets: Iterator[int] = field(default_factory=itertools.count, init=False)
    _in_flight: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._turns = threading.Condition(self._lock)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        lowered = {key.lower(): value for key, value in headers.items()}
        now = self.wall_clock()
        with self._lock:
            if status == 429:
                self._tokens = 0.0
                wait = rate_limit_wait(lowered, now=now)
                self._hold_until(now + (wait if wait is not None else 1.0))
                return
            remaining = lowered.get("x-ratelimit-remaining")
            if remaining is None or remaining.strip() != "0":
                return
            if self.rate is not None:
                self._refill(now)
                self._tokens = min(self._tokens, 0.0)
                return
            wait = rate_limit_wait({"x-ratelimit-reset": lowered.get("x-ratelimit-reset", "")}, now=now)
            if wait is not None:
                self._hold_until(now + wait)

    def pending_wait(self) -> float:
        with self._lock:
            return self._wait(self.wall_clock())

    @contextmanager
    def turn(self, policy: RetryPolicy, deadline: Deadline | None) -> Iterator[None]:
        """Hold a turn for one request: wait for it (see ``wait_turn``), make the request, give it back."""
        self._take_turn(policy, deadline, in_flight=True)
        try:
            yield
        finally:
            with self._turns:
                self._in_flight -= 1
                self._turns.notify_all()

    def wait_turn(self, policy: RetryPolicy, deadline: Deadline | None) -> None:
        """Sleep until a call may go, then take its token; raise if that would overrun the deadline."""
        self._take_turn(policy, deadline, in_flight=False)

    def _take_turn(self, policy: RetryPolicy, deadline: Deadline | None, *, in_flight: bool) -> None:
        ticket = (math.inf if deadline is None else deadline.expires_at, next(self._tickets))
        with self._turns:
            heapq.heappush(self._waiting, ticket)
        served = False
        try:
            while True:
                with self._turns:
                    wait = self._wait(self.wall_clock())
                    my_turn = self._waiting[0] == ticket and not (self.rate is None and self._in_flight > 0)
                    if my_turn and wait <= 0:
                        if self.rate is not None:
                            self._tokens -= 1.0
                        heapq.heappop(self._waiting)
                        self._in_flight += 1 if in_flight else 0
                        served = True
                        self._turns.notify_all()
                        return
                    if not my_turn:
                        # Another call goes first: wait to be told, at most until this call no longer fits.
                        left = None if deadline is None else deadline.remaining() - policy.min_call_seconds
                        if left is not None and left <= 0:
                            raise UpstreamUnavailable("Auth0's rate limit leaves no room before the deadline")
                        self._turns.wait(left)
                        continue
                if not policy.fits(wait, deadline):
                    raise UpstreamUnavailable("Auth0's rate limit leaves no room before the deadline")
                self.sleep(wait)
        finally:
            if not served:
                with self._turns:
                    self._waiting.remove(ticket)
                    heapq.heapify(self._waiting)
                    self._turns.notify_all()

    def _wait(self, now: float) -> float:
        wait = max(0.0, self._not_before - now)
        if self.rate is not None:
            self._refill(now)
            if self._tokens < 1.0:
                wait = max(wait, (1.0 - self._tokens) / self.rate)
        return wait

    def _refill(self, now: float) -> None:
        assert self.rate is not None
        if self._refilled_at is None:
            self._tokens = self.burst
        else:
            self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.rate)
        self._refilled_at = now

    def _hold_until(self, moment: float) -> None:
        now = self.wall_clock()
        self._not_before = max(self._not_before, min(moment, now + self.max_wait_seconds))
