"""One buyer's events one at a time inside a process: Auth0 has no conditional write.

A buyer's purchase records are read, merged and written back whole (``app_metadata``
keys); two events for one buyer handled at the same moment both read the old record and
the second write drops the first one's purchase. The queue prevents that in deployed
stages (one FIFO group per buyer); inline processing (the ``local`` stage, operator
commands without a queue) takes the buyer's lock instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from chalicelib.deadlines import Deadline
from chalicelib.errors import BuyerBusy


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0  # holders and waiters; the entry is dropped when it reaches 0


class BuyerLocks:
    """A lock per normalised buyer address, kept only while someone holds or waits for it.

    Entries are reference-counted, so a long-running process that sees a million buyers
    keeps no lock for any buyer whose events are done (no unbounded dictionary).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        """Buyers with an event in progress or waiting (what the process holds in memory)."""
        with self._guard:
            return len(self._entries)

    @contextmanager
    def hold(self, buyer: str, *, deadline: Deadline | None) -> Iterator[None]:
        """Run the block as the only event of ``buyer`` in this process.

        Waits at most until ``deadline`` (forever without one), then raises ``BuyerBusy``:
        the ping answers 503 and Gumroad redelivers it after the other event is done.
        """
        with self._guard:
            entry = self._entries.setdefault(buyer, _Entry())
            entry.users += 1
        try:
            timeout = -1.0 if deadline is None else max(0.0, deadline.remaining())
            if not entry.lock.acquire(timeout=timeout):
                raise BuyerBusy("another event of this buyer is still being processed; retry later")
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            with self._guard:
                entry.users -= 1
                if entry.users == 0:
                    del self._entries[buyer]
