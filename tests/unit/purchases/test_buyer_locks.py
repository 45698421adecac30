"""One event per buyer at a time inside a process, with no lock kept for a buyer whose events are done."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from chalicelib.deadlines import Deadline
from chalicelib.errors import BuyerBusy
from chalicelib.purchases.buyer_locks import BuyerLocks

BUYER = "customer@example.com"
WAIT = 5.0  # seconds: a generous bound on what must happen at once, never reached when the code is right


def waiters(locks: BuyerLocks, buyer: str) -> int:
    # Holders and waiters of one buyer: the reference count the entry is kept for.
    with locks._guard:
        entry = locks._entries.get(buyer)
        return 0 if entry is None else entry.users


def until(condition: Callable[[], bool]) -> None:
    give_up = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.005)


class Event:
    """One event of a buyer run in a thread: it says when it is inside the lock and waits to be let go."""

    def __init__(self, locks: BuyerLocks, buyer: str, inside: list[str], name: str) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._inside = inside
        self._name = name
        self._thread = threading.Thread(target=self._run, args=(locks, buyer), daemon=True)

    def start(self) -> Event:
        self._thread.start()
        return self

    def _run(self, locks: BuyerLocks, buyer: str) -> None:
        with locks.hold(buyer, deadline=None):
            self._inside.append(self._name)
            self.entered.set()
            self.release.wait(WAIT)
            self._inside.remove(self._name)

    def finish(self) -> None:
        self.release.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive()


def test_a_third_event_waits_for_the_second_that_waited_for_the_first() -> None:
    # A three-course cart: three events of one buyer at once. The second waits for the first; when the
    # first is done, the lock must stay with the buyer, so that the third waits for the second too.
    locks = BuyerLocks()
    inside: list[str] = []
    first = Event(locks, BUYER, inside, "first").start()
    assert first.entered.wait(WAIT)
    second = Event(locks, BUYER, inside, "second").start()
    until(lambda: waiters(locks, BUYER) == 2)

    first.finish()
    assert second.entered.wait(WAIT)
    assert len(locks) == 1, "the buyer's lock is kept while the second event holds it"
    third = Event(locks, BUYER, inside, "third").start()
    until(lambda: third.entered.is_set() or waiters(locks, BUYER) == 2)

    assert not third.entered.wait(0.2), "the third event ran beside the second"
    assert inside == ["second"]
    second.finish()
    assert third.entered.wait(WAIT)
    assert inside == ["third"]
    third.finish()


def test_events_of_different_buyers_run_at_the_same_time() -> None:
    locks = BuyerLocks()
    inside: list[str] = []
    one = Event(locks, "one@example.com", inside, "one").start()
    other = Event(locks, "other@example.com", inside, "other").start()

    assert one.entered.wait(WAIT)
    assert other.entered.wait(WAIT)
    assert sorted(inside) == ["one", "other"]
    assert len(locks) == 2
    one.finish()
    other.finish()


def test_no_lock_is_kept_for_a_buyer_whose_events_are_done() -> None:
    locks = BuyerLocks()
    for index in range(100):
        with locks.hold(f"buyer{index}@example.com", deadline=None):
            assert len(locks) == 1

    assert len(locks) == 0


def test_a_waiter_whose_deadline_passes_gets_buyer_busy_and_leaves_no_entry_behind() -> None:
    locks = BuyerLocks()
    inside: list[str] = []
    holder = Event(locks, BUYER, inside, "holder").start()
    assert holder.entered.wait(WAIT)

    with pytest.raises(BuyerBusy), locks.hold(BUYER, deadline=Deadline.after(0.05)):
        pytest.fail("ran beside the holder")

    assert waiters(locks, BUYER) == 1
    holder.finish()
    assert len(locks) == 0


def test_the_lock_is_released_when_the_event_fails() -> None:
    locks = BuyerLocks()

    with pytest.raises(RuntimeError), locks.hold(BUYER, deadline=None):
        raise RuntimeError("the event failed")

    assert len(locks) == 0
    with locks.hold(BUYER, deadline=Deadline.after(0.05)):
        pass
