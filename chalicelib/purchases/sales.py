"""Sales of Gumroad's API v2 (``GET /v2/sales``) read as the events their pings would have carried."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.errors import MalformedPing
from chalicelib.purchases.events import RECONCILIATION_ORIGIN, SaleEvent, SubscriptionEvent
from chalicelib.purchases.gumroad import event_from_fields

# What the state of a listed sale becomes, in the resource names of the pings Gumroad would have sent.
SALE = "sale"
REFUND = "refund"
DISPUTE = "dispute"
DISPUTE_WON = "dispute_won"
MEMBERSHIP_ENDED = "subscription_ended"
KINDS = (SALE, REFUND, DISPUTE, DISPUTE_WON, MEMBERSHIP_ENDED)


def sale_fields(sale: Mapping[str, Any]) -> dict[str, Any]:
    """A sale of ``GET /v2/sales`` (``Purchase#as_json(version: 2)``) in the ping's field names.

    The two presentations of one purchase differ: the API's ``id`` is the ping's ``sale_id``;
    its ``email`` is the buyer's *account* address when they have one, while the ping's
    ``email`` is the purchase's own address, which the API calls ``purchase_email``; its
    ``product_permalink`` is the unique short permalink (the ping's ``short_product_id``, not
    the ping's full-URL ``product_permalink``); ``recurring_charge`` is the ping's
    ``is_recurring_charge``; ``refunded`` is left out when Gumroad holds no value (nil). Custom
    fields are not copied: the API keeps them apart, so none can shadow the buyer's address.
    """
    fields: dict[str, Any] = {
        "resource_name": "sale",
        "sale_id": sale.get("id"),
        "seller_id": sale.get("seller_id"),
        "product_id": sale.get("product_id"),
        "product_name": sale.get("product_name"),
        "short_product_id": sale.get("product_permalink"),
        "email": sale.get("purchase_email") or sale.get("email"),
        "full_name": sale.get("full_name"),
        "subscription_id": sale.get("subscription_id"),
        "sale_timestamp": sale.get("created_at"),
        "refunded": sale.get("refunded") is True,
        "disputed": sale.get("disputed") is True,
        "dispute_won": sale.get("dispute_won") is True,
        "is_gift_receiver_purchase": sale.get("is_gift_receiver_purchase") is True,
        "is_recurring_charge": sale.get("recurring_charge") is True,
    }
    return {name: value for name, value in fields.items() if value is not None}


def skip_reason(sale: Mapping[str, Any], *, seller_id: str | None) -> str | None:
    """Why a sale grants nobody access (checked before any Auth0 call), or None.

    Test purchases never get here: the Sales API lists only ``successful`` purchases and free
    trials, and a seller's own purchase is ``test_successful``.
    """
    if seller_id and sale.get("seller_id") != seller_id:
        return "other_seller"
    if sale.get("is_gift_sender_purchase") is True:
        # Access belongs to the giftee, whose own $0 purchase the Sales API does not list.
        return "gift_sender_purchase"
    if sale.get("refunded") is True:
        return "refunded"
    if sale.get("chargedback") is True or (sale.get("disputed") is True and sale.get("dispute_won") is not True):
        return "chargedback"
    if sale.get("subscription_id") and (sale.get("dead") is True or sale.get("ended") is True):
        return "membership_not_alive"
    return None


@dataclass(frozen=True)
class Observation:
    """What one listed sale says about a buyer's access now: the event to apply, or why there is none."""

    sale_id: str
    kind: str | None  # one of KINDS, None when skipped
    event: SaleEvent | SubscriptionEvent | None
    skip: str | None = None
    created_at: str | None = None

    @property
    def grants(self) -> bool:
        return self.kind in (SALE, DISPUTE_WON)


def observe(sale: Mapping[str, Any], *, seller_id: str | None, observed_at: str) -> Observation:
    """The ping-shaped event that makes the buyer's access agree with ``sale`` as Gumroad lists it now.

    * refunded -> ``refund``; charged back and not reversed -> ``dispute``; reversed -> ``dispute_won``;
    * a membership that is no longer alive (``dead`` or ``ended``) -> ``subscription_ended`` at
      ``observed_at`` (the API says *whether* it ended, not when);
    * anything else -> ``sale``.

    A gift is listed only as the giver's purchase (``Purchase.for_sales_api_ordered_by_date`` selects
    ``successful`` and free-trial purchases; the giftee's own purchase is ``gift_receiver_purchase_successful``),
    and a refund marks the giftee's purchase refunded without pinging it
    (``Purchase#mark_giftee_purchase_as_refunded``). So the giver's sale stands for the giftee: the
    event carries ``giftee_email`` and ``is_gift_receiver_purchase``, and the record pairs it with the
    giftee's own purchase of the same product (``chalicelib.purchases.records``).
    """
    sale_id = str(sale.get("id") or "-")
    created_at = sale.get("created_at") if isinstance(sale.get("created_at"), str) else None
    if seller_id and sale.get("seller_id") != seller_id:
        return Observation(sale_id, None, None, skip="other_seller", created_at=created_at)
    fields = sale_fields(sale)
    if sale.get("is_gift_sender_purchase") is True:
        giftee = sale.get("giftee_email")
        if not isinstance(giftee, str) or not giftee.strip():
            return Observation(sale_id, None, None, skip="gift_without_giftee_email", created_at=created_at)
        fields["email"] = giftee
        fields["is_gift_receiver_purchase"] = True
        # As the giftee's sale ping says it (gifter_email): tells a gift to oneself from a gift to another.
        fields["gifter_email"] = sale.get("gifter_email") or sale.get("purchase_email") or sale.get("email")
        fields.pop("full_name", None)  # the giver's name, not the giftee's
    kind = _kind(sale)
    try:
        if kind == MEMBERSHIP_ENDED:
            event: SaleEvent | SubscriptionEvent = _membership_ended(fields, observed_at=observed_at)
        else:
            fields["resource_name"] = kind
            fields["refunded"] = kind == REFUND
            parsed = event_from_fields(fields)
            if not isinstance(parsed, SaleEvent):  # pragma: no cover - a sale resource always parses to one
                raise MalformedPing("not a sale")
            event = parsed
    except MalformedPing as error:
        return Observation(sale_id, None, None, skip=f"unreadable_sale: {error.message}", created_at=created_at)
    return Observation(sale_id, kind, replace(event, origin=RECONCILIATION_ORIGIN), created_at=created_at)


def _kind(sale: Mapping[str, Any]) -> str:
    # The Sales API's `disputed` is Purchase#chargedback? and `dispute_won` is chargeback_reversed?.
    if sale.get("refunded") is True:
        return REFUND
    if sale.get("chargedback") is True or (sale.get("disputed") is True and sale.get("dispute_won") is not True):
        return DISPUTE
    if sale.get("disputed") is True:
        return DISPUTE_WON
    if sale.get("subscription_id") and (sale.get("dead") is True or sale.get("ended") is True):
        return MEMBERSHIP_ENDED
    return SALE


def _membership_ended(fields: Mapping[str, Any], *, observed_at: str) -> SubscriptionEvent:
    parsed = event_from_fields(
        {
            "resource_name": MEMBERSHIP_ENDED,
            "subscription_id": fields.get("subscription_id"),
            "product_id": fields.get("product_id"),
            "user_email": fields.get("email"),
            "purchase_ids": [fields["sale_id"]] if fields.get("sale_id") else [],
            "ended_at": observed_at,
        }
    )
    if not isinstance(parsed, SubscriptionEvent):  # pragma: no cover - the resource name decides the type
        raise MalformedPing("not a membership event")
    return parsed
