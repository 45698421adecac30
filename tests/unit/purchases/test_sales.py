"""What one sale of ``GET /v2/sales`` says about access: the event its ping would have carried, or why none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.purchases.events import SaleEvent, SubscriptionEvent
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


def listed_gift(**changes: Any) -> dict[str, Any]:
    """The giver's purchase of a gift as the Sales API lists it (sales_page_reconcile.json)."""
    page = json.loads((FIXTURES / "sales_page_reconcile.json").read_text(encoding="utf-8"))
    sale: dict[str, Any] = next(sale for sale in page["sales"] if sale.get("is_gift_sender_purchase"))
    sale.update(changes)
    return sale


def test_a_gift_stands_for_the_giftee_with_the_givers_address_as_its_ping_would_carry_it() -> None:
    seen = observe(listed_gift(), seller_id=SELLER_ID, observed_at=OBSERVED)

    assert isinstance(seen.event, SaleEvent)
    assert (seen.event.email, seen.event.gift, seen.event.gifter_email) == (
        "giftee@example.com",
        True,
        "giver@example.com",
    )
    assert seen.event.self_gift is False


def test_a_gift_to_oneself_typed_in_another_case_is_read_as_a_self_gift() -> None:
    # Gift#gifter_email and #giftee_email keep the addresses as typed; Gumroad refused only an exact match.
    sale = listed_gift(purchase_email="mallory@example.com", gifter_email="Mallory@example.com")
    sale["giftee_email"] = "mallory@example.com"

    seen = observe(sale, seller_id=SELLER_ID, observed_at=OBSERVED)

    assert isinstance(seen.event, SaleEvent)
    assert (seen.event.email, seen.event.self_gift) == ("mallory@example.com", True)
