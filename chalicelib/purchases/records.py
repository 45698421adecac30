"""The per-buyer record of the purchases that grant a course, kept in Auth0 ``app_metadata``.

One first-level ``app_metadata`` key per course (``gumroad_<slug>``): Auth0's PATCH replaces
a first-level key whole, so pings for different courses of one buyer (a cart checkout sends
them at the same moment) never overwrite each other's record.

Every field merges as a join (a refund stays a refund, timestamps keep the latest), so
applying events in any order, or applying one twice, ends in the same record. That is what
makes the service order-proof and idempotent: a redelivered event changes nothing and
therefore writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

RECORD_KEY_PREFIX = "gumroad_"
SCHEMA_VERSION = 1
# A gift is two purchases made together: the giver's (the one the Sales API lists and disputes ping) and the
# giftee's (the one the sale ping names). Seen from both sides, they are paired by product and time (see
# CourseRecord.find_gift and CourseRecord.effective).
GIFT_PAIRING_SECONDS = 600
# The giver's and the giftee's purchases are created in one request, before the charge (Purchase::CreateService
# calls create_giftee_purchase after prepare_for_charge!): an unconfirmed purchase is taken for a self-gift's
# giver's only this close to it. The buyer's own purchase is rarely this close (Purchase#not_double_charged refuses
# most within 3 minutes, 10 s for some products), and once its sale is seen it is never taken for the giver's.
GIVER_PAIRING_SECONDS = 60


def record_key(slug: str) -> str:
    return f"{RECORD_KEY_PREFIX}{slug}"


@dataclass(frozen=True)
class PurchaseState:
    """What the service knows about one purchase: a sale, or a whole membership.

    A membership is one purchase however many times it renews: renewals arrive as
    new sales carrying the same ``subscription_id``.

    ``confirmed`` says the purchase was seen sold: by its ``sale`` ping or by the Sales API. A refund,
    dispute or won dispute ping, or a membership event, names a purchase without proving it is the
    buyer's own (a gift's giver is pinged with the giver's address), so until its sale is seen such a
    purchase grants nothing. ``self_gift`` marks a gift whose giver is the giftee (the giver typed the
    address in another case: Gumroad compares the two as typed).
    """

    purchase_id: str
    sale_id: str | None = None
    subscription_id: str | None = None
    product_id: str | None = None
    purchased_at: str | None = None
    refunded: bool = False
    disputed: bool = False
    dispute_won: bool = False
    ended_at: str | None = None
    restarted_at: str | None = None
    gift: bool = False
    self_gift: bool = False
    confirmed: bool = True

    @property
    def alive(self) -> bool:
        """Not refunded, not lost in a dispute, not ended (whether or not its sale was seen)."""
        if self.refunded:
            return False
        if self.disputed and not self.dispute_won:
            return False
        return not self.ended

    @property
    def active(self) -> bool:
        """Grants access: alive, and seen sold."""
        return self.alive and self.confirmed

    @property
    def ended(self) -> bool:
        if self.ended_at is None:
            return False
        return self.restarted_at is None or self.restarted_at <= self.ended_at

    @property
    def status(self) -> str:
        if self.refunded:
            return "refunded"
        if self.disputed and not self.dispute_won:
            return "disputed"
        if self.ended:
            return "ended"
        return "active" if self.confirmed else "unconfirmed"

    def merge(self, other: PurchaseState) -> PurchaseState:
        """The join of two observations of the same purchase (commutative, idempotent).

        A membership's renewals carry new sale ids: the purchase keeps the first charge's id
        (earliest ``purchased_at``, then the smallest id), whichever ping arrived first.
        """
        first = min((self, other), key=_charge_order)
        return PurchaseState(
            purchase_id=self.purchase_id,
            sale_id=first.sale_id or self.sale_id or other.sale_id,
            purchased_at=first.purchased_at or self.purchased_at or other.purchased_at,
            subscription_id=self.subscription_id or other.subscription_id,
            product_id=self.product_id or other.product_id,
            refunded=self.refunded or other.refunded,
            disputed=self.disputed or other.disputed,
            dispute_won=self.dispute_won or other.dispute_won,
            ended_at=_latest(self.ended_at, other.ended_at),
            restarted_at=_latest(self.restarted_at, other.restarted_at),
            gift=self.gift or other.gift,
            self_gift=self.self_gift or other.self_gift,
            confirmed=self.confirmed or other.confirmed,
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"id": self.purchase_id, "status": self.status}
        for name in ("sale_id", "subscription_id", "product_id", "purchased_at", "ended_at", "restarted_at"):
            value = getattr(self, name)
            if value is not None:
                document[name] = value
        for name in ("refunded", "disputed", "dispute_won", "gift", "self_gift"):
            if getattr(self, name):
                document[name] = True
        if not self.confirmed:
            # Written only when false: every record saved before this field existed reads as confirmed.
            document["unconfirmed"] = True
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> PurchaseState | None:
        purchase_id = document.get("id")
        if not isinstance(purchase_id, str) or not purchase_id:
            return None
        return cls(
            purchase_id=purchase_id,
            sale_id=_str_or_none(document.get("sale_id")),
            subscription_id=_str_or_none(document.get("subscription_id")),
            product_id=_str_or_none(document.get("product_id")),
            purchased_at=_str_or_none(document.get("purchased_at")),
            refunded=document.get("refunded") is True,
            disputed=document.get("disputed") is True,
            dispute_won=document.get("dispute_won") is True,
            ended_at=_str_or_none(document.get("ended_at")),
            restarted_at=_str_or_none(document.get("restarted_at")),
            gift=document.get("gift") is True,
            self_gift=document.get("self_gift") is True,
            confirmed=document.get("unconfirmed") is not True,
        )


@dataclass(frozen=True)
class CourseRecord:
    """All purchases of one course by one buyer, and whether the role is believed assigned.

    ``role_assigned`` is ``None`` when the service has never touched the role (no record yet).
    """

    slug: str
    role_id: str
    purchases: tuple[PurchaseState, ...] = field(default_factory=tuple)
    role_assigned: bool | None = None

    @property
    def grants_access(self) -> bool:
        return any(purchase.active for purchase in self.effective_purchases)

    @property
    def effective_purchases(self) -> tuple[PurchaseState, ...]:
        """The purchases as they stand for access: each self-gift with its giver's refund or dispute applied."""
        return tuple(self.effective(purchase) for purchase in self.purchases)

    def effective(self, purchase: PurchaseState) -> PurchaseState:
        """``purchase``, and for a self-gift what its giver's purchase says (a refund or a lost dispute).

        Gumroad pings a gift's dispute, won dispute (and would ping a refund) for the *giver's* purchase,
        with the giver's address and not as a gift; the giftee's purchase is marked without a ping
        (``Purchase#mark_giftee_purchase_as_chargeback``). When the giver is the giftee, that ping lands
        in this record as a purchase never seen sold, of the same product, made with the gift: the giver's
        (``_givers``). Decided here, when access is read, and not when events are merged: if the buyer's
        own sale of that id arrives later, that purchase was not the gift's, and the gift stands again.
        """
        if not (purchase.gift and purchase.self_gift):
            return purchase
        givers = self._givers(purchase)
        if not givers:
            return purchase
        states = (purchase, *givers)
        lost = any(state.disputed and not state.dispute_won for state in states)
        won = not lost and any(state.dispute_won for state in states)
        return replace(
            purchase,
            refunded=any(state.refunded for state in states),
            disputed=lost or won or purchase.disputed,
            dispute_won=won,
        )

    def _givers(self, gift: PurchaseState) -> list[PurchaseState]:
        """The purchases of this record that may be the self-gift's giver's: never seen sold, not a gift
        themselves, of the same product, made within GIVER_PAIRING_SECONDS of the gift."""
        moment = _instant(gift.purchased_at)
        if moment is None or gift.product_id is None:
            return []
        return [
            purchase
            for purchase in self.purchases
            if not purchase.confirmed
            and not purchase.gift
            and purchase.sale_id is not None
            and purchase.product_id == gift.product_id
            and (instant := _instant(purchase.purchased_at)) is not None
            and abs((instant - moment).total_seconds()) <= GIVER_PAIRING_SECONDS
        ]

    def find(
        self,
        *,
        sale_id: str | None,
        subscription_id: str | None,
        purchase_ids: tuple[str, ...] = (),
    ) -> PurchaseState | None:
        for purchase in self.purchases:
            if subscription_id and purchase.subscription_id == subscription_id:
                return purchase
            if sale_id and purchase.sale_id == sale_id:
                return purchase
            if purchase.sale_id and purchase.sale_id in purchase_ids:
                return purchase
        return None

    def with_purchase(self, observed: PurchaseState) -> CourseRecord:
        """This record with ``observed`` merged into the purchase it describes (or added)."""
        existing = self.find(sale_id=observed.sale_id, subscription_id=observed.subscription_id)
        if existing is None and observed.gift:
            existing = self.find_gift(observed)
        if existing is None:
            return replace(self, purchases=(*self.purchases, observed))
        merged = existing.merge(observed)
        partner = None
        if merged.gift and not existing.gift:
            # The giver's purchase of a self-gift, recorded from its dispute ping, now listed by the Sales API
            # as the gift it is: one purchase with the giftee's, recorded from the sale ping.
            partner = self.find_gift(merged, excluding=existing)
        if partner is None:
            return replace(
                self,
                purchases=tuple(merged if purchase is existing else purchase for purchase in self.purchases),
            )
        joined = partner.merge(merged)
        return replace(
            self,
            purchases=tuple(
                joined if purchase is partner else purchase for purchase in self.purchases if purchase is not existing
            ),
        )

    def find_gift(self, observed: PurchaseState, *, excluding: PurchaseState | None = None) -> PurchaseState | None:
        """The gift purchase of the same product made within GIFT_PAIRING_SECONDS of ``observed``, closest first.

        The giftee's purchase (named by the sale ping) and the giver's (listed by the Sales API, which
        reconciliation reads) carry different ids, and a refund marks both but pings only the giver's.
        Two gifts of one product to one buyer within ten minutes would pair wrongly; access is the same
        either way while both are alive.
        """
        moment = _instant(observed.purchased_at)
        if moment is None:
            return None
        candidates = [
            (abs((instant - moment).total_seconds()), purchase)
            for purchase in self.purchases
            if purchase.gift
            and purchase is not excluding
            and purchase.product_id == observed.product_id
            and (instant := _instant(purchase.purchased_at)) is not None
        ]
        close = [pair for pair in candidates if pair[0] <= GIFT_PAIRING_SECONDS]
        return min(close, key=lambda pair: pair[0])[1] if close else None

    def with_role(self, assigned: bool) -> CourseRecord:
        return replace(self, role_assigned=assigned)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "course": self.slug,
            "role_id": self.role_id,
            "role_assigned": self.role_assigned,
            # Each purchase's own fields, with the status it has for access (a self-gift's giver's refund counts).
            "purchases": [
                {**purchase.to_json(), "status": self.effective(purchase).status} for purchase in self.purchases
            ],
        }

    @classmethod
    def from_app_metadata(cls, app_metadata: Mapping[str, Any] | None, *, slug: str, role_id: str) -> CourseRecord:
        """Read the record of ``slug``; a missing or unreadable one is an empty record.

        An unreadable record (edited by hand, say) is treated as empty rather than fatal:
        the next write replaces it with a valid one built from the events that follow.
        """
        empty = cls(slug=slug, role_id=role_id)
        if not app_metadata:
            return empty
        document = app_metadata.get(record_key(slug))
        if not isinstance(document, Mapping):
            return empty
        raw_purchases = document.get("purchases")
        purchases: list[PurchaseState] = []
        if isinstance(raw_purchases, list):
            for raw in raw_purchases:
                if isinstance(raw, Mapping):
                    parsed = PurchaseState.from_json(raw)
                    if parsed is not None:
                        purchases.append(parsed)
        role_assigned = document.get("role_assigned")
        stored_role = document.get("role_id")
        if not isinstance(role_assigned, bool) or stored_role != role_id:
            # The catalogue moved the course to another role: what we knew about the old one says
            # nothing about the new one.
            role_assigned = None
        return cls(slug=slug, role_id=role_id, purchases=tuple(purchases), role_assigned=role_assigned)


def _charge_order(state: PurchaseState) -> tuple[bool, str, bool, str]:
    # Known before unknown, earlier before later, then the sale id as a tie-breaker.
    return (state.purchased_at is None, state.purchased_at or "", state.sale_id is None, state.sale_id or "")


def _latest(left: str | None, right: str | None) -> str | None:
    # chalicelib.purchases.gumroad normalises timestamps to YYYY-MM-DDTHH:MM:SSZ, so text order is time order.
    if left is None:
        return right
    if right is None:
        return left
    return max(left, right)


def _instant(timestamp: str | None) -> datetime | None:
    if timestamp is None:
        return None
    try:
        return datetime.fromisoformat(timestamp)
    except ValueError:
        return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
