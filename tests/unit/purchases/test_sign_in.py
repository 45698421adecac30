"""What a sign-in changes, against an in-memory tenant with several users per address: links, grants, calls.

The Management API requests per case are the ``calls`` (one per request): the README's table quotes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.catalogue import load_catalogue
from chalicelib.purchases.holders import HELD_KEY, HOLDER_KEY, TrustPolicy
from chalicelib.purchases.records import CourseRecord, PurchaseState, record_key
from chalicelib.purchases.sign_in import GRANTED, LINKED, NONE, UNVERIFIED, SignIns
from tests.account_support import DATABASE, AccountTenant
from tests.purchase_support import MEMBERSHIP_ROLE, SERVERLESS_ROLE

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[2] / "fixtures" / "courses.purchase.json")
POLICY = TrustPolicy(database_connection=DATABASE, trusted_connections=frozenset({"email", "google-oauth2"}))
ALICE = "alice@example.com"
KEY = record_key("serverless-handbook")


def record(*, assigned: bool | None, refunded: bool = False) -> dict[str, object]:
    sale = PurchaseState(purchase_id="S1", sale_id="S1", product_id="32-nPAicqbLj8B_WswVlMw==", refunded=refunded)
    return {
        KEY: CourseRecord(
            slug="serverless-handbook", role_id=SERVERLESS_ROLE, purchases=(sale,), role_assigned=assigned
        ).to_json()
    }


def sign_ins(tenant: AccountTenant) -> SignIns:
    return SignIns(catalogue=CATALOGUE, directory=tenant, trust=POLICY)


def test_an_unverified_google_sign_in_gets_nothing_changes_nothing_and_costs_one_read() -> None:
    tenant = AccountTenant()
    buyer = tenant.add(ALICE, service_made=True, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True))
    squatter = tenant.add(ALICE, "google-oauth2", verified=False)

    answer = sign_ins(tenant).sign_in(squatter.user_id)

    assert (answer.result, answer.reason) == (UNVERIFIED, "email_not_verified")
    assert tenant.operations == ["get_user"]
    assert squatter.user_id in tenant.users
    assert tenant.users[buyer.user_id].linked == []


def test_a_verified_google_sign_in_joins_the_account_the_purchase_made_in_three_calls() -> None:
    tenant = AccountTenant()
    buyer = tenant.add(ALICE, service_made=True, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True))
    google = tenant.add(ALICE, "google-oauth2", verified=True)

    answer = sign_ins(tenant).sign_in(google.user_id)

    assert (answer.result, answer.primary_user_id) == (LINKED, buyer.user_id)
    assert answer.to_json() == {"result": "linked", "primary_user_id": buyer.user_id}
    assert tenant.operations == ["get_user", "find_users", "link"]
    assert [identity.user_id for identity in tenant.users[buyer.user_id].linked] == [google.user_id]


def test_google_first_with_nothing_bought_changes_nothing_and_marks_no_one() -> None:
    tenant = AccountTenant()
    google = tenant.add(ALICE, "google-oauth2", verified=True)

    answer = sign_ins(tenant).sign_in(google.user_id)

    assert answer.result == NONE
    assert tenant.operations == ["get_user", "find_users"]
    assert HOLDER_KEY not in tenant.users[google.user_id].app_metadata


def test_an_email_code_claims_a_purchase_held_for_an_unverified_self_registered_user() -> None:
    tenant = AccountTenant()
    held = {**record(assigned=False), HELD_KEY: {"v": 1}}
    squatter = tenant.add(ALICE, verified=False, app_metadata=held)  # held at the sale
    code = tenant.add(ALICE, "email", verified=True)

    answer = sign_ins(tenant).sign_in(code.user_id)

    assert answer.result == GRANTED
    assert tenant.operations == ["get_user", "find_users", "assign_role", "save_records"]
    assert tenant.users[code.user_id].roles == {SERVERLESS_ROLE}
    saved = tenant.users[code.user_id].app_metadata
    assert saved[KEY]["role_assigned"] is True
    assert saved[HOLDER_KEY] == {"v": 1, "created_by_service": False}
    assert tenant.users[squatter.user_id].roles == set()


@pytest.mark.parametrize("verified", [False, True], ids=["as registered", "after a reset or a verification link"])
def test_a_database_user_the_service_did_not_create_gets_nothing_and_is_never_linked(verified: bool) -> None:
    # Someone registered the address (public sign-up) before the buyer bought: the sale held the purchase there.
    # A reset or a verification link proves that the mailbox was opened, not who else knows the password or
    # holds refresh tokens minted before: the owner takes the purchase with a code or Google instead.
    tenant = AccountTenant()
    holder = tenant.add(ALICE, "email", verified=True, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True))
    registered = tenant.add(ALICE, verified=verified, app_metadata={**record(assigned=False), HELD_KEY: {"v": 1}})

    answer = sign_ins(tenant).sign_in(registered.user_id)

    assert (answer.result, answer.reason) == (UNVERIFIED, "connection_not_trusted")
    assert tenant.operations == ["get_user"]
    assert tenant.users[holder.user_id].linked == []
    assert tenant.users[registered.user_id].roles == set()


def test_a_creator_who_trusts_the_database_connection_has_its_verified_users_linked() -> None:
    trusting = TrustPolicy(database_connection=DATABASE, trusted_connections=frozenset({DATABASE, "email"}))
    tenant = AccountTenant()
    holding = {**record(assigned=True), HOLDER_KEY: {"v": 1, "created_by_service": False}}
    holder = tenant.add(ALICE, "email", verified=True, roles={SERVERLESS_ROLE}, app_metadata=holding)
    made_by_hand = tenant.add(ALICE, verified=True)

    answer = SignIns(catalogue=CATALOGUE, directory=tenant, trust=trusting).sign_in(made_by_hand.user_id)

    assert (answer.result, answer.primary_user_id) == (LINKED, holder.user_id)
    assert tenant.operations == ["get_user", "find_users", "link"]


def test_a_buyer_from_before_the_mark_gets_it_once_so_later_sign_ins_need_no_call() -> None:
    # Verified (the set-password e-mail verifies), records, no mark: a buyer the service made before marks existed.
    tenant = AccountTenant()
    legacy = tenant.add(ALICE, verified=True, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True))

    answer = sign_ins(tenant).sign_in(legacy.user_id)

    assert answer.result == NONE
    assert tenant.operations == ["get_user", "find_users", "save_records"]
    assert tenant.users[legacy.user_id].app_metadata[HOLDER_KEY] == {"v": 1, "created_by_service": True}


def test_a_users_own_purchases_move_to_the_holder_before_it_is_linked() -> None:
    tenant = AccountTenant()
    membership = CourseRecord(
        slug="pro-membership",
        role_id=MEMBERSHIP_ROLE,
        purchases=(PurchaseState(purchase_id="M1", sale_id="M1", product_id="8RhOl0SwGgLXJ0CXvRMUrQ=="),),
        role_assigned=True,
    )
    holder = tenant.add(
        ALICE,
        service_made=True,
        roles={MEMBERSHIP_ROLE},
        app_metadata={record_key("pro-membership"): membership.to_json()},
    )
    google = tenant.add(
        ALICE, "google-oauth2", verified=True, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True)
    )

    answer = sign_ins(tenant).sign_in(google.user_id)

    assert answer.result == LINKED
    assert tenant.operations == ["get_user", "find_users", "assign_role", "save_records", "link"]
    assert tenant.users[holder.user_id].roles == {SERVERLESS_ROLE, MEMBERSHIP_ROLE}
    assert tenant.users[holder.user_id].app_metadata[KEY]["purchases"][0]["sale_id"] == "S1"


def test_a_refund_recorded_elsewhere_takes_the_role_from_the_holder_when_the_records_join() -> None:
    tenant = AccountTenant()
    holder = tenant.add(ALICE, service_made=True, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True))
    google = tenant.add(ALICE, "google-oauth2", verified=True, app_metadata=record(assigned=False, refunded=True))

    sign_ins(tenant).sign_in(google.user_id)

    assert tenant.users[holder.user_id].roles == set()
    assert tenant.users[holder.user_id].app_metadata[KEY]["purchases"][0]["status"] == "refunded"


def test_an_unverified_users_roles_go_when_the_verified_owner_signs_in() -> None:
    tenant = AccountTenant()
    squatter = tenant.add(ALICE, verified=False, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True))
    code = tenant.add(ALICE, "email", verified=True)

    sign_ins(tenant).sign_in(code.user_id)

    assert tenant.users[code.user_id].roles == {SERVERLESS_ROLE}
    assert tenant.users[squatter.user_id].roles == set()
    assert tenant.users[squatter.user_id].app_metadata[KEY]["role_assigned"] is False
    assert tenant.users[squatter.user_id].app_metadata[HELD_KEY] == {"v": 1}  # never taken for a buyer from before


def test_a_user_auth0_no_longer_knows_changes_nothing() -> None:
    tenant = AccountTenant()
    answer = sign_ins(tenant).sign_in("google-oauth2|000")
    assert (answer.result, answer.reason) == (NONE, "unknown_user")
    assert tenant.operations == ["get_user"]


def test_google_keeps_its_casing_and_is_found_by_its_own_sign_in() -> None:
    tenant = AccountTenant()
    buyer = tenant.add(ALICE, service_made=True, roles={SERVERLESS_ROLE}, app_metadata=record(assigned=True))
    google = tenant.add("Alice@Example.com", "google-oauth2", verified=True)

    answer = sign_ins(tenant).sign_in(google.user_id)

    assert (answer.result, answer.primary_user_id) == (LINKED, buyer.user_id)
    assert tenant.calls[1] == ("find_users", ALICE)  # the address as the service normalises it
