"""The per-buyer record of purchases: purchase states, order-proof merging and the app_metadata shape."""

from __future__ import annotations

from dataclasses import replace
from functools import reduce
from itertools import permutations
from typing import Any

import pytest

from chalicelib.purchases.records import (
    SCHEMA_VERSION,
    CourseRecord,
    PurchaseState,
    record_key,
)

# Identifiers as the recorded pings in tests/fixtures/gumroad/ carry them.
SALE_ID = "FO8TXN-dbxYaBdahG97Y-Q=="
OTHER_SALE_ID = "l9Yx3lP7WJQ3a0bpJg7xCA=="
MEMBERSHIP_SALE_ID = "FO8TXN-dvxYabdavG97Y-Q=="
RENEWAL_SALE_ID = "Q1n8y2n0R3u4aBbCcDdEeA=="
SUBSCRIPTION_ID = "GazW4_NBcQy-o7Gjjng7lw=="
PRODUCT_ID = "32-nPAicqbLj8B_WswVlMw=="
MEMBERSHIP_PRODUCT_ID = "8RhOl0SwGgLXJ0CXvRMUrQ=="
SLUG = "serverless-handbook"
ROLE_ID = "rol_abc123"

ENDED = "2021-03-05T19:38:56Z"
RESTARTED = "2021-04-01T08:00:00Z"
ENDED_AGAIN = "2021-06-05T19:38:56Z"


def sale(sale_id: str = SALE_ID, **flags: Any) -> PurchaseState:
    return PurchaseState(purchase_id=sale_id, sale_id=sale_id, product_id=PRODUCT_ID, **flags)


def membership(**fields: Any) -> PurchaseState:
    values: dict[str, Any] = {
        "purchase_id": SUBSCRIPTION_ID,
        "sale_id": MEMBERSHIP_SALE_ID,
        "subscription_id": SUBSCRIPTION_ID,
        "product_id": MEMBERSHIP_PRODUCT_ID,
    }
    values.update(fields)
    return PurchaseState(**values)


# --- PurchaseState ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purchase", "active", "status"),
    [
        (sale(), True, "active"),
        (sale(refunded=True), False, "refunded"),
        (sale(disputed=True), False, "disputed"),
        (sale(disputed=True, dispute_won=True), True, "active"),
        (sale(refunded=True, disputed=True), False, "refunded"),
        (sale(refunded=True, disputed=True, dispute_won=True), False, "refunded"),
        (membership(ended_at=ENDED), False, "ended"),
        (membership(ended_at=ENDED, restarted_at=RESTARTED), True, "active"),
        (membership(ended_at=ENDED_AGAIN, restarted_at=RESTARTED), False, "ended"),
        (membership(ended_at=ENDED, restarted_at=ENDED), False, "ended"),
        (membership(restarted_at=RESTARTED), True, "active"),
        (membership(ended_at=ENDED, restarted_at=RESTARTED, disputed=True), False, "disputed"),
    ],
    ids=[
        "sold",
        "refunded",
        "disputed",
        "dispute-won",
        "refunded-and-disputed",
        "refund-beats-dispute-won",
        "ended",
        "restarted-after-ended",
        "ended-after-restart",
        "restarted-at-the-moment-it-ended",
        "restarted-never-ended",
        "dispute-beats-restart",
    ],
)
def test_a_purchase_is_active_unless_refunded_lost_in_dispute_or_ended(
    purchase: PurchaseState, active: bool, status: str
) -> None:
    assert purchase.active is active
    assert purchase.status == status


def test_a_membership_ended_is_ended_until_restarted_later() -> None:
    assert membership(ended_at=ENDED).ended is True
    assert membership(ended_at=ENDED, restarted_at=RESTARTED).ended is False
    assert membership().ended is False


# --- merge --------------------------------------------------------------------------------------

# Every observation a membership can produce: first sale, subscription events (which carry no
# sale_id), a dispute, the won dispute, the end, the restart and the second end.
MEMBERSHIP_OBSERVATIONS = [
    membership(),
    membership(sale_id=None, ended_at=ENDED),
    membership(disputed=True),
    membership(disputed=True, dispute_won=True),
    membership(sale_id=None, restarted_at=RESTARTED),
    membership(sale_id=None, product_id=None, ended_at=ENDED_AGAIN),
]
SALE_OBSERVATIONS = [
    sale(),
    sale(refunded=True),
    sale(disputed=True),
    PurchaseState(purchase_id=SALE_ID, sale_id=SALE_ID),
]


@pytest.mark.parametrize("observations", [MEMBERSHIP_OBSERVATIONS, SALE_OBSERVATIONS], ids=["membership", "sale"])
def test_merging_observations_in_any_order_ends_in_the_same_purchase(observations: list[PurchaseState]) -> None:
    results = {reduce(PurchaseState.merge, ordering) for ordering in permutations(observations)}

    assert len(results) == 1


def test_merging_membership_observations_keeps_the_latest_end_and_restart() -> None:
    merged = reduce(PurchaseState.merge, MEMBERSHIP_OBSERVATIONS)

    assert merged == membership(disputed=True, dispute_won=True, ended_at=ENDED_AGAIN, restarted_at=RESTARTED)
    assert merged.status == "ended"


@pytest.mark.parametrize("observation", MEMBERSHIP_OBSERVATIONS + SALE_OBSERVATIONS)
def test_merging_an_observation_with_itself_changes_nothing(observation: PurchaseState) -> None:
    assert observation.merge(observation) == observation


def test_merging_an_observation_already_merged_changes_nothing() -> None:
    merged = reduce(PurchaseState.merge, SALE_OBSERVATIONS)

    for observation in SALE_OBSERVATIONS:
        assert merged.merge(observation) == merged
        assert observation.merge(merged) == merged


def test_a_refund_stays_a_refund_whatever_arrives_after_it() -> None:
    assert sale(refunded=True).merge(sale()).refunded is True
    assert sale().merge(sale(refunded=True)).refunded is True


def test_merging_a_renewal_and_the_first_charge_is_commutative() -> None:
    first_charge = membership()
    renewal = membership(sale_id=RENEWAL_SALE_ID)

    assert first_charge.merge(renewal) == renewal.merge(first_charge)


def test_a_membership_keeps_its_first_charge_whichever_ping_arrives_first() -> None:
    first_charge = replace(membership(), purchased_at="2021-01-05T19:38:56Z")
    renewal = replace(membership(sale_id=RENEWAL_SALE_ID), purchased_at="2021-02-05T19:38:56Z")

    assert renewal.merge(first_charge).sale_id == first_charge.sale_id
    assert first_charge.merge(renewal).purchased_at == "2021-01-05T19:38:56Z"


# --- CourseRecord -------------------------------------------------------------------------------


def empty_record() -> CourseRecord:
    return CourseRecord(slug=SLUG, role_id=ROLE_ID)


def test_a_record_with_no_purchases_grants_nothing() -> None:
    record = empty_record()

    assert record.grants_access is False
    assert record.role_assigned is None


def test_a_refund_merges_into_its_sale_by_sale_id() -> None:
    refund = PurchaseState(purchase_id=SALE_ID, sale_id=SALE_ID, product_id=PRODUCT_ID, refunded=True)

    record = empty_record().with_purchase(sale()).with_purchase(refund)

    assert record.purchases == (sale(refunded=True),)
    assert record.grants_access is False


def test_a_renewal_with_a_new_sale_id_merges_into_the_membership_by_subscription_id() -> None:
    renewal = membership(sale_id=RENEWAL_SALE_ID)

    record = empty_record().with_purchase(membership()).with_purchase(renewal)

    assert len(record.purchases) == 1
    assert record.purchases[0].subscription_id == SUBSCRIPTION_ID
    assert record.purchases[0].sale_id == MEMBERSHIP_SALE_ID
    assert record.grants_access is True


def test_a_subscription_event_without_sale_id_merges_into_the_membership() -> None:
    ended = PurchaseState(purchase_id=SUBSCRIPTION_ID, subscription_id=SUBSCRIPTION_ID, ended_at=ENDED)

    record = empty_record().with_purchase(membership()).with_purchase(ended)

    assert record.purchases == (membership(ended_at=ENDED),)
    assert record.grants_access is False


def test_different_sales_are_kept_as_separate_purchases() -> None:
    record = empty_record().with_purchase(sale()).with_purchase(sale(OTHER_SALE_ID))

    assert [purchase.purchase_id for purchase in record.purchases] == [SALE_ID, OTHER_SALE_ID]


def test_another_active_purchase_keeps_access_when_one_is_refunded() -> None:
    record = empty_record().with_purchase(sale()).with_purchase(sale(OTHER_SALE_ID))

    refunded = record.with_purchase(sale(refunded=True))

    assert refunded.grants_access is True
    assert refunded.with_purchase(sale(OTHER_SALE_ID, refunded=True)).grants_access is False


def test_applying_a_record_s_events_in_any_order_gives_the_same_purchases_and_access() -> None:
    events = [
        sale(),
        sale(OTHER_SALE_ID),
        sale(refunded=True),
        membership(),
        PurchaseState(purchase_id=SUBSCRIPTION_ID, subscription_id=SUBSCRIPTION_ID, ended_at=ENDED),
    ]

    outcomes = set()
    for ordering in permutations(events):
        record = reduce(CourseRecord.with_purchase, ordering, empty_record())
        outcomes.add((frozenset(record.purchases), record.grants_access))

    assert len(outcomes) == 1
    ((purchases, grants),) = outcomes
    assert len(purchases) == 3
    assert grants is True


def test_applying_an_event_twice_changes_nothing() -> None:
    record = empty_record().with_purchase(sale()).with_purchase(membership())

    assert record.with_purchase(sale()) == record
    assert record.with_purchase(membership()) == record


def test_find_links_a_subscription_event_through_its_purchase_ids() -> None:
    # A purchase recorded from a sale that carried no subscription_id.
    record = empty_record().with_purchase(PurchaseState(purchase_id=MEMBERSHIP_SALE_ID, sale_id=MEMBERSHIP_SALE_ID))

    found = record.find(
        sale_id=None,
        subscription_id=SUBSCRIPTION_ID,
        purchase_ids=(MEMBERSHIP_SALE_ID, RENEWAL_SALE_ID),
    )

    assert found is not None
    assert found.purchase_id == MEMBERSHIP_SALE_ID
    assert record.find(sale_id=None, subscription_id=SUBSCRIPTION_ID, purchase_ids=(RENEWAL_SALE_ID,)) is None


def test_with_role_records_the_belief_about_the_role() -> None:
    assert empty_record().with_role(True).role_assigned is True
    assert empty_record().with_role(False).role_assigned is False


# --- app_metadata shape -------------------------------------------------------------------------


def test_the_record_key_is_one_first_level_key_per_course() -> None:
    assert record_key(SLUG) == "gumroad_serverless-handbook"


def test_a_record_is_saved_with_its_schema_course_role_and_purchase_states() -> None:
    record = (
        empty_record()
        .with_purchase(sale(refunded=True))
        .with_purchase(membership(ended_at=ENDED, restarted_at=RESTARTED))
        .with_role(True)
    )

    assert record.to_json() == {
        "v": SCHEMA_VERSION,
        "course": SLUG,
        "role_id": ROLE_ID,
        "role_assigned": True,
        "purchases": [
            {
                "id": SALE_ID,
                "status": "refunded",
                "sale_id": SALE_ID,
                "product_id": PRODUCT_ID,
                "refunded": True,
            },
            {
                "id": SUBSCRIPTION_ID,
                "status": "active",
                "sale_id": MEMBERSHIP_SALE_ID,
                "subscription_id": SUBSCRIPTION_ID,
                "product_id": MEMBERSHIP_PRODUCT_ID,
                "ended_at": ENDED,
                "restarted_at": RESTARTED,
            },
        ],
    }


@pytest.mark.parametrize("role_assigned", [True, False, None])
def test_a_saved_record_reads_back_unchanged(role_assigned: bool | None) -> None:
    record = CourseRecord(
        slug=SLUG,
        role_id=ROLE_ID,
        purchases=(
            sale(refunded=True),
            sale(OTHER_SALE_ID, disputed=True, dispute_won=True),
            membership(ended_at=ENDED_AGAIN, restarted_at=RESTARTED),
        ),
        role_assigned=role_assigned,
    )
    app_metadata = {
        record_key(SLUG): record.to_json(),
        record_key("pro-membership"): {"v": 1, "purchases": []},
        "plan": "legacy",
    }

    assert CourseRecord.from_app_metadata(app_metadata, slug=SLUG, role_id=ROLE_ID) == record


def test_a_record_saved_for_another_role_reads_back_with_the_role_unknown() -> None:
    saved = CourseRecord(slug=SLUG, role_id="rol_old999", purchases=(sale(),), role_assigned=True)

    record = CourseRecord.from_app_metadata({record_key(SLUG): saved.to_json()}, slug=SLUG, role_id=ROLE_ID)

    assert record.role_id == ROLE_ID
    assert record.role_assigned is None
    assert record.purchases == (sale(),)


@pytest.mark.parametrize(
    "app_metadata",
    [
        None,
        {},
        {"unrelated": {"purchases": [{"id": SALE_ID}]}},
        {record_key(SLUG): "gumroad"},
        {record_key(SLUG): ["purchases"]},
        {record_key(SLUG): 7},
        {record_key(SLUG): None},
        {record_key(SLUG): {}},
        {record_key(SLUG): {"purchases": "none"}},
        {record_key(SLUG): {"purchases": {"id": SALE_ID}}},
        {record_key(SLUG): {"purchases": [1, "x", None, [], {"id": 5}, {"id": ""}, {"sale_id": SALE_ID}]}},
        {record_key(SLUG): {"role_id": ROLE_ID, "role_assigned": "true", "purchases": []}},
        {record_key(SLUG): {"role_id": ROLE_ID, "role_assigned": 1}},
    ],
)
def test_an_unreadable_record_reads_as_an_empty_one(app_metadata: dict[str, Any] | None) -> None:
    record = CourseRecord.from_app_metadata(app_metadata, slug=SLUG, role_id=ROLE_ID)

    assert record == empty_record()


def test_a_purchase_with_wrongly_typed_fields_keeps_only_what_is_readable() -> None:
    app_metadata = {
        record_key(SLUG): {
            "role_id": ROLE_ID,
            "role_assigned": True,
            "purchases": [
                {
                    "id": SALE_ID,
                    "sale_id": ["x"],
                    "subscription_id": 12,
                    "product_id": "",
                    "refunded": "true",
                    "disputed": 1,
                    "ended_at": 1614973136,
                    "restarted_at": {"at": RESTARTED},
                }
            ],
        }
    }

    record = CourseRecord.from_app_metadata(app_metadata, slug=SLUG, role_id=ROLE_ID)

    assert record.purchases == (PurchaseState(purchase_id=SALE_ID),)
    assert record.role_assigned is True
    assert record.grants_access is True


# --- gifts: the giver's purchase (Sales API) and the giftee's (the sale ping) are one purchase --------

GIFTEE_SALE_ID = "Gr9Tm3wQz6XcV1bN8kLp4A=="
GIVER_SALE_ID = "Gf2Yq8sLp0VbN4cXw7tKmA=="


def gift(sale_id: str, purchased_at: str, **flags: Any) -> PurchaseState:
    return sale(sale_id, purchased_at=purchased_at, gift=True, **flags)


def test_the_givers_refund_pairs_with_the_giftees_purchase_and_revokes_it() -> None:
    record = CourseRecord(slug=SLUG, role_id=ROLE_ID).with_purchase(gift(GIFTEE_SALE_ID, "2026-11-15T17:45:13Z"))

    after = record.with_purchase(gift(GIVER_SALE_ID, "2026-11-15T17:45:12Z", refunded=True))

    [purchase] = after.purchases
    assert (purchase.purchase_id, purchase.status, purchase.gift) == (GIFTEE_SALE_ID, "refunded", True)
    assert not after.grants_access


def test_the_giftees_own_ping_after_a_reconciled_gift_merges_into_it() -> None:
    reconciled = CourseRecord(slug=SLUG, role_id=ROLE_ID).with_purchase(gift(GIVER_SALE_ID, "2026-11-15T17:45:12Z"))

    after = reconciled.with_purchase(gift(GIFTEE_SALE_ID, "2026-11-15T17:45:13Z"))

    assert len(after.purchases) == 1
    assert after.to_json()["purchases"][0]["gift"] is True


def test_gifts_apart_in_time_or_not_gifts_stay_separate_purchases() -> None:
    record = (
        CourseRecord(slug=SLUG, role_id=ROLE_ID)
        .with_purchase(gift(GIFTEE_SALE_ID, "2026-11-15T17:45:13Z"))
        .with_purchase(sale(OTHER_SALE_ID, purchased_at="2026-11-20T09:00:00Z"))
    )

    later_gift = record.with_purchase(gift(GIVER_SALE_ID, "2026-11-15T18:45:12Z", refunded=True))
    bought = record.with_purchase(sale(GIVER_SALE_ID, purchased_at="2026-11-15T17:45:12Z", refunded=True))

    assert len(later_gift.purchases) == 3, "an hour apart: another gift"
    assert len(bought.purchases) == 3, "not a gift: its own purchase"


def test_the_gift_flag_survives_the_record_round_trip() -> None:
    record = CourseRecord(slug=SLUG, role_id=ROLE_ID).with_purchase(gift(GIFTEE_SALE_ID, "2026-11-15T17:45:13Z"))

    read_back = CourseRecord.from_app_metadata({record_key(SLUG): record.to_json()}, slug=SLUG, role_id=ROLE_ID)

    assert read_back.purchases == record.purchases


# --- self-gifts: the giver's purchase lands in the giftee's record when they are one buyer ---------

OWN_SALE_ID = OTHER_SALE_ID


def self_gift(**flags: Any) -> PurchaseState:
    fields: dict[str, Any] = {"self_gift": True, **flags}
    return gift(GIFTEE_SALE_ID, "2026-11-15T17:45:13Z", **fields)


def givers_ping(**flags: Any) -> PurchaseState:
    """The giver's purchase as its dispute (or refund) ping records it: not a gift, never seen sold."""
    fields: dict[str, Any] = {"purchased_at": "2026-11-15T17:45:12Z", "confirmed": False, **flags}
    return sale(GIVER_SALE_ID, **fields)


def test_a_purchase_never_seen_sold_is_alive_but_grants_nothing() -> None:
    restored = sale(disputed=True, dispute_won=True, confirmed=False)

    assert (restored.alive, restored.active, restored.status) == (True, False, "unconfirmed")
    assert empty_record().with_purchase(restored).grants_access is False
    assert restored.merge(sale()).active is True, "its sale, once seen, confirms it"


@pytest.mark.parametrize("flags", [{"disputed": True}, {"refunded": True}])
def test_the_givers_refund_or_dispute_ends_a_self_gift(flags: dict[str, bool]) -> None:
    record = empty_record().with_purchase(self_gift()).with_purchase(givers_ping(**flags))

    assert record.grants_access is False
    [gift_state, _] = record.effective_purchases
    assert gift_state.status == ("refunded" if "refunded" in flags else "disputed")
    assert record.to_json()["purchases"][0]["status"] == gift_state.status
    assert "refunded" not in record.to_json()["purchases"][0], "the gift's own fields are kept as they were"


def test_a_won_dispute_of_the_givers_purchase_gives_the_self_gift_back() -> None:
    record = empty_record().with_purchase(self_gift()).with_purchase(givers_ping(disputed=True))

    won = record.with_purchase(givers_ping(disputed=True, dispute_won=True))

    assert won.grants_access is True


def test_a_gift_from_someone_else_is_not_ended_by_the_buyers_own_unconfirmed_refund() -> None:
    from_someone_else = gift(GIFTEE_SALE_ID, "2026-11-15T17:45:13Z")

    record = empty_record().with_purchase(from_someone_else).with_purchase(givers_ping(refunded=True))

    assert record.grants_access is True


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(givers_ping(refunded=True, purchased_at="2026-11-15T18:45:12Z"), id="an-hour-apart"),
        pytest.param(givers_ping(refunded=True, purchased_at="2026-11-15T17:43:30Z"), id="a-minute-and-more-apart"),
        pytest.param(replace(givers_ping(refunded=True), product_id="vG8hPbGGf7_I4S4mpSFMsw=="), id="other-product"),
        pytest.param(givers_ping(refunded=True, confirmed=True), id="seen-sold-so-the-buyers-own"),
    ],
)
def test_only_an_unconfirmed_purchase_of_the_same_product_made_with_the_gift_counts_as_its_givers(
    other: PurchaseState,
) -> None:
    assert empty_record().with_purchase(self_gift()).with_purchase(other).grants_access is True


def test_the_sales_api_listing_of_the_givers_purchase_joins_what_its_ping_recorded_with_the_gift() -> None:
    pinged = empty_record().with_purchase(self_gift()).with_purchase(givers_ping(disputed=True))
    listed = gift(GIVER_SALE_ID, "2026-11-15T17:45:12Z", self_gift=True, disputed=True)

    record = pinged.with_purchase(listed)

    [joined] = record.purchases
    assert (joined.purchase_id, joined.gift, joined.self_gift, joined.confirmed) == (GIFTEE_SALE_ID, True, True, True)
    assert joined.status == "disputed"
    assert record.grants_access is False


def test_self_gift_events_in_any_order_give_the_same_access_and_statuses() -> None:
    events = [
        self_gift(),
        givers_ping(disputed=True),
        gift(GIVER_SALE_ID, "2026-11-15T17:45:12Z", self_gift=True, refunded=True),
        sale(OWN_SALE_ID, purchased_at="2026-11-15T17:46:00Z"),
        sale(OWN_SALE_ID, purchased_at="2026-11-15T17:46:00Z", refunded=True, confirmed=False),
    ]

    outcomes = set()
    for ordering in permutations(events):
        record = reduce(CourseRecord.with_purchase, ordering, empty_record())
        outcomes.add((record.grants_access, tuple(sorted(p.status for p in record.effective_purchases))))

    assert outcomes == {(False, ("refunded", "refunded"))}


def test_the_new_fields_survive_the_round_trip_and_old_records_read_as_confirmed() -> None:
    record = empty_record().with_purchase(self_gift()).with_purchase(givers_ping(disputed=True))

    document = record.to_json()
    read_back = CourseRecord.from_app_metadata({record_key(SLUG): document}, slug=SLUG, role_id=ROLE_ID)

    assert read_back.purchases == record.purchases
    assert document["purchases"][0]["self_gift"] is True
    assert document["purchases"][1]["unconfirmed"] is True
    saved_before = {"id": SALE_ID, "status": "active", "sale_id": SALE_ID, "dispute_won": True, "disputed": True}
    old = CourseRecord.from_app_metadata({record_key(SLUG): {"purchases": [saved_before]}}, slug=SLUG, role_id=ROLE_ID)
    assert old.purchases[0].confirmed is True
    assert old.grants_access is True


@pytest.mark.parametrize("observation", [givers_ping(), self_gift(), givers_ping(confirmed=True)])
def test_merging_the_new_fields_is_commutative_and_idempotent(observation: PurchaseState) -> None:
    other = replace(observation, confirmed=not observation.confirmed, self_gift=not observation.self_gift)

    assert observation.merge(other) == other.merge(observation)
    assert observation.merge(observation) == observation
    assert observation.merge(other).confirmed is True
