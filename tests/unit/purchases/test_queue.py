"""Queue messages: what survives the queue, FIFO group and deduplication ids, unreadable messages."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from chalicelib.errors import (
    MalformedMessage,
)
from chalicelib.purchases.events import SaleEvent, SubscriptionEvent
from chalicelib.purchases.gumroad import parse_ping
from chalicelib.purchases.queue import (
    decode_event,
    deduplication_id,
    encode_event,
    group_id,
)
from tests.purchase_support import form_body, recorded_body

if TYPE_CHECKING:
    pass

FORM = "application/x-www-form-urlencoded"


def sale(name: str = "sale", **changes: str | None) -> SaleEvent:
    event = parse_ping(FORM, form_body(name, **changes).encode())
    assert isinstance(event, SaleEvent)
    return event


def ended() -> SubscriptionEvent:
    body = form_body(
        "cancellation",
        resource_name="subscription_ended",
        cancelled=None,
        cancelled_at=None,
        cancelled_by_buyer=None,
        ended_at="2021-03-05T19:38:56Z",
        ended_reason="cancelled",
    )
    event = parse_ping(FORM, body.encode())
    assert isinstance(event, SubscriptionEvent)
    return event


# --- messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["sale", "refund", "sale_with_variants", "sale_physical_shipping", "sale_gift", "dispute_gift_giver"]
)
def test_every_recorded_sale_survives_the_queue_unchanged(name: str) -> None:
    event = parse_ping(FORM, recorded_body(name).encode())
    assert isinstance(event, SaleEvent)

    assert decode_event(encode_event(event)) == event


def test_a_self_gift_is_still_one_after_the_queue() -> None:
    event = parse_ping(
        FORM, form_body("sale_gift", email="mallory@example.com", gifter_email="Mallory@example.com").encode()
    )
    assert isinstance(event, SaleEvent)

    queued = decode_event(encode_event(event))

    assert isinstance(queued, SaleEvent)
    assert (queued.gifter_email, queued.self_gift) == ("mallory@example.com", True)


def test_a_message_queued_before_gifter_email_existed_still_reads() -> None:
    event = parse_ping(FORM, recorded_body("sale").encode())
    assert isinstance(event, SaleEvent)
    document = json.loads(encode_event(event))
    del document["event"]["gifter_email"]

    assert decode_event(json.dumps(document)) == event


def test_a_subscription_event_survives_the_queue_unchanged() -> None:
    event = ended()

    assert decode_event(encode_event(event)) == event


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"v": 99, "kind": "sale", "event": {}}),
        json.dumps({"v": 1, "kind": "sale"}),
        json.dumps({"v": 1, "kind": "refund", "event": {"product": {"product_id": "x"}}}),
        json.dumps({"v": 1, "kind": "sale", "event": {"product": {"product_id": "x"}, "surprise": 1}}),
    ],
)
def test_an_unreadable_message_is_malformed(body: str) -> None:
    with pytest.raises(MalformedMessage):
        decode_event(body)


def test_a_message_without_a_buyer_is_malformed() -> None:
    document = json.loads(encode_event(sale()))
    document["event"]["email"] = ""

    with pytest.raises(MalformedMessage, match="buyer"):
        decode_event(json.dumps(document))


def test_one_buyers_events_share_a_group_that_does_not_show_the_address() -> None:
    purchase, refund = sale(), sale("refund")

    assert group_id(purchase) == group_id(refund)
    assert group_id(purchase) != group_id(sale(email="someone-else@example.com"))
    assert "customer" not in group_id(purchase)
    assert len(group_id(purchase)) <= 128


def test_a_redelivered_event_keeps_its_deduplication_id_and_other_events_do_not_share_it() -> None:
    purchase = sale()

    assert deduplication_id(purchase) == deduplication_id(replace(purchase, retry_count=2))
    assert deduplication_id(purchase) != deduplication_id(sale("refund"))
    assert deduplication_id(purchase) != deduplication_id(sale(sale_id="AnotherSale0000000000A=="))
    assert deduplication_id(ended()) != deduplication_id(replace(ended(), occurred_at="2022-01-01T00:00:00Z"))
