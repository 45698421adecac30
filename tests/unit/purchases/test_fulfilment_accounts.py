"""A sale or a refund when the buyer's address has several Auth0 users: who receives it, and who never does.

The squatters: an unverified Google account made with a future buyer's address gets nothing (the service makes
its own user); a database user someone registered with that address holds the purchase, ungranted, until the
mailbox's owner signs in with a code or Google. Google first, bought after: the Google user is granted, no second
user is made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.catalogue import load_catalogue
from chalicelib.purchases.fulfilment import Fulfilment
from chalicelib.purchases.gumroad import parse_ping
from chalicelib.purchases.holders import HELD_KEY, HOLDER_KEY, TrustPolicy
from chalicelib.purchases.outcomes import ALREADY_DONE, PROCESSED, Outcome
from chalicelib.purchases.records import record_key
from tests.account_support import DATABASE, AccountTenant
from tests.purchase_support import SERVERLESS_ROLE, form_body, recorded_body

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[2] / "fixtures" / "courses.purchase.json")
POLICY = TrustPolicy(database_connection=DATABASE, trusted_connections=frozenset({"email", "google-oauth2"}))
# A creator who lists the database connection: verified users of it count, whoever made them.
TRUSTING = TrustPolicy(database_connection=DATABASE, trusted_connections=frozenset({DATABASE, "email"}))
BUYER = "customer@example.com"  # the address of the recorded bodies
KEY = record_key("serverless-handbook")
SALE_ID = "FO8TXN-dbxYaBdahG97Y-Q=="


class Welcomes:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def welcome(self, email: str) -> bool:
        self.sent.append(email)
        return True


def handle(
    tenant: AccountTenant, body: str, welcomes: Welcomes | None = None, *, trust: TrustPolicy = POLICY
) -> Outcome:
    fulfilment = Fulfilment(
        catalogue=CATALOGUE,
        directory=tenant,
        onboarding=welcomes or Welcomes(),
        send_verification_email=False,
        provision_test_purchases=False,
        trust=trust,
    )
    return fulfilment.handle(parse_ping("application/x-www-form-urlencoded", body.encode()))


def test_google_first_then_bought_grants_the_google_user_and_makes_no_second_user() -> None:
    tenant = AccountTenant()
    google = tenant.add(BUYER, "google-oauth2", verified=True)

    outcome = handle(tenant, recorded_body("sale"))

    assert outcome.changes == ("role_assigned", "record_saved")
    assert tenant.operations == ["find_users", "assign_role", "save_records"]  # a returning buyer's 3 calls
    assert tenant.users[google.user_id].roles == {SERVERLESS_ROLE}
    assert tenant.users[google.user_id].app_metadata[HOLDER_KEY] == {"v": 1, "created_by_service": False}
    assert len(tenant.users) == 1


def test_an_unverified_google_squatter_gets_nothing_and_the_service_makes_its_own_user() -> None:
    tenant = AccountTenant()
    squatter = tenant.add(BUYER, "google-oauth2", verified=False)

    outcome = handle(tenant, recorded_body("sale"))

    assert outcome.changes[:2] == ("user_created", "role_assigned")
    assert tenant.operations == ["find_users", "create_buyer", "assign_role"]  # a new buyer's 3 calls
    assert tenant.users[squatter.user_id].roles == set()
    [made] = [user for user in tenant.users.values() if user.connection == DATABASE]
    assert made.roles == {SERVERLESS_ROLE}
    assert made.app_metadata[HOLDER_KEY] == {"v": 1, "created_by_service": True}


@pytest.mark.parametrize("verified", [False, True], ids=["as registered", "after a verification link"])
def test_a_database_user_someone_registered_holds_the_purchase_ungranted_and_marked_held(verified: bool) -> None:
    tenant, welcomes = AccountTenant(), Welcomes()
    squatter = tenant.add(BUYER, verified=verified)

    outcome = handle(tenant, recorded_body("sale"), welcomes)

    assert outcome.status == PROCESSED
    assert outcome.changes == ("record_saved", "held_unverified_address")
    assert tenant.operations == ["find_users", "save_records"]
    assert tenant.users[squatter.user_id].roles == set()
    held = tenant.users[squatter.user_id].app_metadata
    assert held[KEY]["role_assigned"] is False
    assert held[KEY]["purchases"][0]["status"] == "active"
    assert HOLDER_KEY not in held  # not a holder: its sign-ins still ask the service
    assert held[HELD_KEY] == {"v": 1}  # in the same write: never taken for a buyer from before the marks
    # No set-password e-mail: whatever password the owner set, the registrant's refresh tokens would live on.
    assert welcomes.sent == []


def test_the_held_sale_redelivered_costs_one_lookup() -> None:
    tenant, welcomes = AccountTenant(), Welcomes()
    tenant.add(BUYER, verified=False)
    handle(tenant, recorded_body("sale"), welcomes)
    tenant.calls.clear()

    outcome = handle(tenant, recorded_body("sale"), welcomes)

    assert outcome.status == ALREADY_DONE
    assert tenant.operations == ["find_users"]
    assert welcomes.sent == []


def test_a_refund_of_a_held_purchase_is_recorded_and_grants_or_removes_nothing() -> None:
    tenant = AccountTenant()
    squatter = tenant.add(BUYER, verified=False)
    handle(tenant, recorded_body("sale"))

    outcome = handle(tenant, form_body("refund", sale_id=SALE_ID))

    assert "role_removed" not in outcome.changes
    assert tenant.users[squatter.user_id].app_metadata[KEY]["purchases"][0]["status"] == "refunded"


def test_a_refund_reaches_every_user_whose_record_knows_the_purchase() -> None:
    tenant = AccountTenant()
    first = tenant.add(BUYER, service_made=True)
    second = tenant.add(BUYER, "email", verified=True)
    handle(tenant, recorded_body("sale"))  # granted to the service's user
    tenant.users[second.user_id].app_metadata[KEY] = dict(tenant.users[first.user_id].app_metadata[KEY])
    tenant.users[second.user_id].roles.add(SERVERLESS_ROLE)  # a duplicate holding the same purchase

    outcome = handle(tenant, form_body("refund", sale_id=SALE_ID))

    assert outcome.changes.count("role_removed") == 2
    assert tenant.users[first.user_id].roles == tenant.users[second.user_id].roles == set()


def test_a_buyer_from_before_the_marks_is_granted_again_and_marked_the_services() -> None:
    tenant = AccountTenant()
    earlier = handle(tenant, recorded_body("sale"))  # made and granted by the service
    assert earlier.changes[0] == "user_created"
    [buyer] = tenant.users.values()
    del buyer.app_metadata[HOLDER_KEY]  # as a release before the marks left it
    buyer.email_verified = True  # the set-password e-mail verified it

    handle(tenant, form_body("sale", sale_id="second-sale", product_id="8RhOl0SwGgLXJ0CXvRMUrQ=="))

    assert buyer.app_metadata[HOLDER_KEY] == {"v": 1, "created_by_service": True}
    assert len(tenant.users) == 1


def test_a_verified_user_the_creator_made_is_granted_when_the_database_connection_is_trusted() -> None:
    tenant = AccountTenant()
    made_by_hand = tenant.add(BUYER, verified=True)

    handle(tenant, recorded_body("sale"), trust=TRUSTING)

    assert tenant.users[made_by_hand.user_id].roles == {SERVERLESS_ROLE}
    assert tenant.users[made_by_hand.user_id].app_metadata[HOLDER_KEY]["created_by_service"] is False
