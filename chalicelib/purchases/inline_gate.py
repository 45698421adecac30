"""Inline pings take turns for Auth0: earliest deadline first, and no start that cannot finish in time.

Concurrent inline pings share the process's pacer, and the tenant's rate is what it is: at 2
requests/s a new buyer's three calls take 1.5 s, so of six pings arriving together only the
first two can finish inside Gumroad's deadline. Without turns every ping advanced a little
(their calls interleaved on the pacer), all of them ran out of time half-way through, and each
redelivery cost more calls than the first attempt (the half-done work is re-read).

So one inline ping at a time does its Auth0 work: Gumroad's redeliveries first (the higher its
``retry_count``, the fewer chances a ping has left: Gumroad gives up after the third), then in
deadline order. A ping whose turn would come too late to finish (the time left is less than
what recent pings took) answers 503 before making any call: Gumroad redelivers it, and nothing
is left half-done.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib.deadlines import Deadline
from chalicelib.errors import InlineBusy

# How much the estimate of a ping's Auth0 work moves down towards each shorter measurement.
SMOOTHING = 0.3


class InlineGate:
    """A FIFO-by-deadline turn for the Auth0 work of one inline ping at a time."""

    def __init__(self, *, min_call_seconds: float = 0.3) -> None:
        self._turns = threading.Condition()
        self._waiting: list[tuple[int, float, int]] = []
        self._tickets = itertools.count()
        self._busy = False
        self._estimate = 0.0
        self._min_call_seconds = min_call_seconds

    @property
    def estimate(self) -> float:
        """Seconds the Auth0 work of recent inline pings took: the last longer one at once, shorter ones smoothed."""
        with self._turns:
            return self._estimate

    @contextmanager
    def turn(self, deadline: Deadline | None, *, retry_count: int = 0) -> Iterator[None]:
        """Run the block when it is this ping's turn; raise ``InlineBusy`` if it would come too late."""
        self._wait_for_turn(deadline, retry_count)
        started = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - started
            with self._turns:
                # Up at once, down slowly: admitting a ping that cannot finish leaves work half-done (a write
                # abandoned at the deadline may still land after the next event), refusing one costs a redelivery.
                self._estimate = max(took, self._estimate + SMOOTHING * (took - self._estimate))
                self._busy = False
                self._turns.notify_all()

    def _wait_for_turn(self, deadline: Deadline | None, retry_count: int) -> None:
        ticket = (-retry_count, float("inf") if deadline is None else deadline.expires_at, next(self._tickets))
        with self._turns:
            heapq.heappush(self._waiting, ticket)
            try:
                while self._busy or self._waiting[0] != ticket:
                    # Waiting is worth it only while the work could still finish in time.
                    left = None if deadline is None else deadline.remaining() - self._estimate - self._min_call_seconds
                    if left is not None and left <= 0:
                        raise InlineBusy("earlier pings are using Auth0's rate limit; retry later")
                    self._turns.wait(left)
            except BaseException:
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._turns.notify_all()
                raise
            heapq.heappop(self._waiting)
            self._busy = True
