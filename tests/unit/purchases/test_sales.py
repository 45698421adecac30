"""What one sale of ``GET /v2/sales`` says about access: the event its ping would have carried, or why none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.purchases.gumroad import SubscriptionEvent
from chalicelib.purchases.sales import MEMBERSHIP_ENDED, SALE, observe, skip_reason

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad_api"
SELLER_ID = "kL0psVL2admJSYRNs-OCMg=="
OBSERVED = "2026-11-29T12:00:00Z"


def membership(**changes: Any) -> dict[str, Any]:
    """A membership's sale as ``Purchase#as_json(version: 2)`` lists it (``dead: !subscription.alive?``,
    ``ended: subscription.ended?``)."""
    body: dict[str, Any] = json.loads((FIXTURES / "sale_membership.json").read_text(encoding="utf-8"))
    body.update(changes)
    return body


# Gumroad keeps the two flags apart: a membership can be ended and not (yet) dead, or dead and not ended.
NOT_ALIVE = [
    pytest.param({"dead": True, "ended": False}, id="dead"),
    pytest.param({"dead": False, "ended": True}, id="ended"),
    pytest.param({"dead": True, "ended": True}, id="dead-and-ended"),
]


@pytest.mark.parametrize("flags", NOT_ALIVE)
def test_a_membership_that_is_dead_or_ended_becomes_its_end(flags: dict[str, bool]) -> None:
    seen = observe(membership(**flags), seller_id=SELLER_ID, observed_at=OBSERVED)

    assert seen.kind == MEMBERSHIP_ENDED
    assert isinstance(seen.event, SubscriptionEvent)
    assert seen.event.occurred_at == OBSERVED


@pytest.mark.parametrize("flags", NOT_ALIVE)
def test_a_membership_that_is_dead_or_ended_is_skipped_by_the_backfill(flags: dict[str, bool]) -> None:
    assert skip_reason(membership(**flags), seller_id=SELLER_ID) == "membership_not_alive"


def test_a_membership_neither_dead_nor_ended_is_a_live_sale() -> None:
    alive = membership(dead=False, ended=False, cancelled=True)

    assert observe(alive, seller_id=SELLER_ID, observed_at=OBSERVED).kind == SALE
    assert skip_reason(alive, seller_id=SELLER_ID) is None
