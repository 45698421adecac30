"""Fulfilment's decisions against an in-memory Directory: who gets which role, what the record says, in which order.

The Auth0 adapter's own contract (which HTTP requests reach Auth0, in order) is in
tests/unit/auth0_api/test_directory_exchanges.py; here the Directory port is a small in-memory tenant that keeps
users by address, their roles and ``app_metadata``, logs every call and can be told to fail.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from chalicelib.catalogue import load_catalogue
from chalicelib.errors import BuyerAlreadyExists, PurchaseNotYetKnown, UpstreamRejected, UpstreamUnavailable
from chalicelib.purchases.events import RECONCILIATION_ORIGIN, PingEvent, SaleEvent
from chalicelib.purchases.fulfilment import (
    ALREADY_DONE,
    IGNORED,
    PROCESSED,
    Fulfilment,
    Outcome,
)
from chalicelib.purchases.gumroad import parse_ping
from chalicelib.purchases.ports import Buyer, Directory
from chalicelib.purchases.records import record_key
from tests.purchase_support import MEMBERSHIP_ROLE, SERVERLESS_ROLE, form_body, recorded_body

FORM = "application/x-www-form-urlencoded"
CATALOGUE = load_catalogue(Path(__file__).resolve().parents[2] / "fixtures" / "courses.purchase.json")
HANDBOOK_KEY = record_key("serverless-handbook")
MEMBERSHIP_KEY = record_key("pro-membership")
BUYER = "customer@example.com"
SUBSCRIBER = "calvin@example.com"  # the address of the recorded subscription pings


@dataclass
class User:
    user_id: str
    roles: set[str] = field(default_factory=set)
    app_metadata: dict[str, Any] = field(default_factory=dict)
    verification_email: bool = False


@dataclass
class InMemoryDirectory:
    """The Directory port as a dictionary: users by address, their roles and app_metadata, and a call log.

    ``failures`` maps an operation name to the errors its next calls raise (one per call, in order);
    ``created_elsewhere`` is a user another delivery creates between this one's lookup and its create.
    """

    users: dict[str, User] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    created_elsewhere: tuple[str, User] | None = None
    _next_id: int = 1

    def add(self, email: str, *, roles: set[str] | None = None, app_metadata: dict[str, Any] | None = None) -> User:
        user = User(f"auth0|{self._next_id:024x}", set(roles or ()), copy.deepcopy(app_metadata or {}))
        self._next_id += 1
        self.users[email] = user
        return user

    def _fail(self, operation: str) -> None:
        pending = self.failures.get(operation)
        if pending:
            raise pending.pop(0)

    def _by_id(self, user_id: str) -> User:
        return next(user for user in self.users.values() if user.user_id == user_id)

    def find_buyer(self, email: str) -> Buyer | None:
        self.calls.append(("find_buyer", email))
        self._fail("find_buyer")
        user = self.users.get(email)
        return None if user is None else Buyer(user.user_id, copy.deepcopy(user.app_metadata))

    def create_buyer(
        self, *, email: str, name: str | None, app_metadata: Mapping[str, Any], send_verification_email: bool
    ) -> Buyer:
        self.calls.append(("create_buyer", email))
        if self.created_elsewhere is not None:
            other_email, other = self.created_elsewhere
            self.users[other_email], self.created_elsewhere = other, None
        self._fail("create_buyer")
        if email in self.users:
            raise BuyerAlreadyExists
        user = self.add(email, app_metadata=dict(app_metadata))
        user.verification_email = send_verification_email
        return Buyer(user.user_id, copy.deepcopy(user.app_metadata))

    def assign_role(self, user_id: str, role_id: str) -> None:
        self.calls.append(("assign_role", role_id))
        self._fail("assign_role")
        self._by_id(user_id).roles.add(role_id)

    def remove_role(self, user_id: str, role_id: str) -> None:
        self.calls.append(("remove_role", role_id))
        self._fail("remove_role")
        self._by_id(user_id).roles.discard(role_id)

    def has_role(self, user_id: str, role_id: str) -> bool:
        self.calls.append(("has_role", role_id))
        self._fail("has_role")
        return role_id in self._by_id(user_id).roles

    def save_record(self, user_id: str, key: str, document: Mapping[str, Any]) -> None:
        self.calls.append(("save_record", key))
        self._fail("save_record")
        # Auth0 merges first-level app_metadata keys on PATCH: other keys stay as they were.
        self._by_id(user_id).app_metadata[key] = copy.deepcopy(dict(document))

    @property
    def operations(self) -> list[str]:
        return [call[0] for call in self.calls]

    def record(self, email: str, key: str = HANDBOOK_KEY) -> dict[str, Any]:
        document: dict[str, Any] = self.users[email].app_metadata[key]
        return document


@dataclass
class Welcomes:
    """The Onboarding port: remembers who was welcomed and answers as told."""

    succeed: bool = True
    sent: list[str] = field(default_factory=list)

    def welcome(self, email: str) -> bool:
        self.sent.append(email)
        return self.succeed


def fulfilment(
    directory: Directory,
    *,
    onboarding: Welcomes | None = None,
    send_verification_email: bool = False,
    provision_test_purchases: bool = False,
) -> Fulfilment:
    return Fulfilment(
        catalogue=CATALOGUE,
        directory=directory,
        onboarding=onboarding,
        send_verification_email=send_verification_email,
        provision_test_purchases=provision_test_purchases,
    )


def event(body: str) -> PingEvent:
    return parse_ping(FORM, body.encode("utf-8"))


def handle(directory: InMemoryDirectory, body: str, **options: Any) -> Outcome:
    return fulfilment(directory, onboarding=Welcomes()).handle(event(body), **options)


def subscription_body(resource: str, **fields: str | None) -> str:
    """The recorded cancellation turned into another subscription event."""
    base: dict[str, str | None] = {"resource_name": resource, "cancelled": None, "cancelled_at": None}
    base["cancelled_by_buyer"] = None
    base.update(fields)
    return form_body("cancellation", **base)


def membership_buyer(directory: InMemoryDirectory) -> User:
    """A subscriber whose membership sale was fulfilled."""
    handle(directory, form_body("sale_with_variants", email=SUBSCRIBER))
    directory.calls.clear()
    return directory.users[SUBSCRIBER]


def purchased(directory: InMemoryDirectory, body: str | None = None) -> User:
    """A buyer whose handbook sale was fulfilled; the call log is cleared afterwards."""
    handle(directory, body or recorded_body("sale"))
    directory.calls.clear()
    return directory.users[BUYER]


# --- sales ---------------------------------------------------------------------------------------


def test_a_new_buyer_is_created_with_the_record_then_given_the_role_then_welcomed() -> None:
    directory, welcomes = InMemoryDirectory(), Welcomes()

    outcome = fulfilment(directory, onboarding=welcomes).handle(event(recorded_body("sale")))

    assert (outcome.status, outcome.course) == (PROCESSED, "serverless-handbook")
    assert outcome.changes == ("user_created", "role_assigned", "onboarding_sent")
    assert directory.operations == ["find_buyer", "create_buyer", "assign_role"]
    user = directory.users[BUYER]
    assert user.roles == {SERVERLESS_ROLE}
    record = directory.record(BUYER)
    assert record["role_assigned"] is True
    assert [(p["status"], p["sale_id"]) for p in record["purchases"]] == [("active", "FO8TXN-dbxYaBdahG97Y-Q==")]
    assert welcomes.sent == [BUYER]
    assert user.verification_email is False


def test_the_verification_email_setting_is_passed_to_the_creation_and_nobody_is_welcomed_without_onboarding() -> None:
    directory = InMemoryDirectory()

    outcome = fulfilment(directory, send_verification_email=True).handle(event(recorded_body("sale")))

    assert outcome.changes == ("user_created", "role_assigned")
    assert directory.users[BUYER].verification_email is True


def test_a_returning_buyer_gets_the_role_first_and_the_record_last_and_keeps_other_metadata() -> None:
    directory = InMemoryDirectory()
    directory.add(BUYER, app_metadata={"plan": "kept"})

    outcome = handle(directory, recorded_body("sale"))

    assert outcome.changes == ("role_assigned", "record_saved")
    assert directory.calls == [("find_buyer", BUYER), ("assign_role", SERVERLESS_ROLE), ("save_record", HANDBOOK_KEY)]
    assert directory.users[BUYER].app_metadata["plan"] == "kept"
    assert directory.record(BUYER)["role_assigned"] is True


def test_the_buyer_address_is_looked_up_trimmed_and_lower_cased() -> None:
    directory = InMemoryDirectory()

    handle(directory, form_body("sale", email="  Customer@Example.COM "))

    assert directory.calls[0] == ("find_buyer", BUYER)
    assert BUYER in directory.users


def test_a_redelivered_sale_costs_one_lookup_and_writes_nothing() -> None:
    directory = InMemoryDirectory()
    purchased(directory)

    outcome = handle(directory, recorded_body("sale"))

    assert outcome.status == ALREADY_DONE
    assert directory.operations == ["find_buyer"]


def test_a_gumroad_retry_re_reads_the_role_and_writes_nothing_when_it_is_there() -> None:
    directory = InMemoryDirectory()
    purchased(directory)

    outcome = handle(directory, recorded_body("sale") + "&retry_count=1")

    assert (outcome.status, outcome.changes) == (ALREADY_DONE, ("role_verified",))
    assert directory.operations == ["find_buyer", "has_role"]


@pytest.mark.parametrize("how", ["gumroad-retry", "verify-role"])
def test_a_re_read_repairs_a_role_an_interrupted_attempt_never_assigned(how: str) -> None:
    directory = InMemoryDirectory()
    user = purchased(directory)
    user.roles.clear()  # the attempt before saved the record, then stopped before the role

    if how == "gumroad-retry":
        outcome = handle(directory, recorded_body("sale") + "&retry_count=2")
    else:
        outcome = handle(directory, recorded_body("sale"), verify_role=True)

    assert (outcome.status, outcome.changes) == (PROCESSED, ("role_verified", "role_assigned"))
    assert user.roles == {SERVERLESS_ROLE}


def test_without_a_re_read_the_record_is_trusted() -> None:
    directory = InMemoryDirectory()
    user = purchased(directory)
    user.roles.clear()

    assert handle(directory, recorded_body("sale")).status == ALREADY_DONE
    assert user.roles == set(), "a first delivery trusts the record: that is why redeliveries re-read"


def test_a_renewal_of_a_known_membership_writes_nothing() -> None:
    directory = InMemoryDirectory()
    membership_buyer(directory)

    renewal = form_body(
        "sale_with_variants", email=SUBSCRIBER, sale_id="Q1n8y2n0R3u4aBbCcDdEeA==", is_recurring_charge="true"
    )
    outcome = handle(directory, renewal)

    assert outcome.status == ALREADY_DONE
    assert directory.operations == ["find_buyer"]


def test_a_gift_gives_access_to_the_giftee_not_the_gifter() -> None:
    directory = InMemoryDirectory()
    gift = form_body(
        "sale",
        email="giftee@example.com",
        is_gift_receiver_purchase="true",
        price="0",
        gift_price="500",
        gifter_email="gifter@example.com",
    )

    assert handle(directory, gift).status == PROCESSED

    assert set(directory.users) == {"giftee@example.com"}
    assert directory.users["giftee@example.com"].roles == {SERVERLESS_ROLE}
    assert directory.record("giftee@example.com")["purchases"][0]["gift"] is True


def test_a_buyer_created_concurrently_is_found_again_and_has_the_role_read_back() -> None:
    directory = InMemoryDirectory()
    other = User("auth0|concurrent", app_metadata={})
    directory.created_elsewhere = (BUYER, other)

    outcome = handle(directory, recorded_body("sale"))

    assert outcome.status == PROCESSED
    assert directory.operations == ["find_buyer", "create_buyer", "find_buyer", "assign_role", "save_record"]
    assert other.roles == {SERVERLESS_ROLE}
    assert directory.record(BUYER)["role_assigned"] is True


def test_a_buyer_created_concurrently_with_a_record_saying_assigned_is_not_believed() -> None:
    racer = InMemoryDirectory()
    purchased(racer)
    other = racer.users[BUYER]
    other.roles.clear()  # the other delivery saved the record at creation and stopped before the role
    directory = InMemoryDirectory(created_elsewhere=(BUYER, other))

    outcome = handle(directory, recorded_body("sale"))

    assert outcome.changes == ("role_verified", "role_assigned")
    assert other.roles == {SERVERLESS_ROLE}


def test_a_conflict_for_a_buyer_that_cannot_be_found_yet_is_retried_later() -> None:
    directory = InMemoryDirectory(failures={"create_buyer": [BuyerAlreadyExists()]})

    with pytest.raises(UpstreamUnavailable, match="retry later"):
        handle(directory, recorded_body("sale"))
    assert directory.operations == ["find_buyer", "create_buyer", "find_buyer"]


# --- refunds and disputes ------------------------------------------------------------------------


def test_a_full_refund_removes_the_role_and_records_the_refund() -> None:
    directory = InMemoryDirectory()
    user = purchased(directory)

    outcome = handle(directory, recorded_body("refund"))

    assert outcome.changes == ("role_removed", "record_saved")
    assert directory.operations == ["find_buyer", "remove_role", "save_record"]
    assert user.roles == set()
    record = directory.record(BUYER)
    assert (record["role_assigned"], record["purchases"][0]["status"]) == (False, "refunded")


def test_a_refund_keeps_the_role_when_another_purchase_grants_the_same_course() -> None:
    directory = InMemoryDirectory()
    purchased(directory, form_body("sale", sale_id="l9Yx3lP7WJQ3a0bpJg7xCA==", product_id="vG8hPbGGf7_I4S4mpSFMsw=="))
    handle(directory, recorded_body("sale"))
    directory.calls.clear()

    outcome = handle(directory, recorded_body("refund"))

    assert outcome.changes == ("record_saved",)
    assert directory.users[BUYER].roles == {SERVERLESS_ROLE}
    assert sorted(p["status"] for p in directory.record(BUYER)["purchases"]) == ["active", "refunded"]


def test_a_partial_refund_changes_nothing_and_asks_the_directory_nothing() -> None:
    directory = InMemoryDirectory()
    purchased(directory)

    outcome = handle(directory, form_body("refund", refunded="false"))

    assert (outcome.status, outcome.reason) == (IGNORED, "partial_refund")
    assert directory.calls == []


def test_a_refund_that_overtakes_its_sale_asks_for_a_retry_and_creates_nobody() -> None:
    directory = InMemoryDirectory()

    with pytest.raises(PurchaseNotYetKnown):
        handle(directory, recorded_body("refund"))
    assert directory.operations == ["find_buyer"]
    assert directory.users == {}


def test_a_refund_read_by_the_reconciliation_for_an_unknown_buyer_is_ignored() -> None:
    directory = InMemoryDirectory()
    refund = event(recorded_body("refund"))
    assert isinstance(refund, SaleEvent)

    outcome = fulfilment(directory).handle(replace(refund, origin=RECONCILIATION_ORIGIN))

    assert (outcome.status, outcome.reason) == (IGNORED, "unknown_buyer")
    assert directory.users == {}


def test_a_refund_recorded_before_its_sale_makes_the_late_sale_grant_nothing() -> None:
    directory = InMemoryDirectory()
    user = directory.add(BUYER)
    handle(directory, recorded_body("refund"))
    directory.calls.clear()

    late_sale = handle(directory, recorded_body("sale"))

    assert late_sale.status == ALREADY_DONE
    assert directory.operations == ["find_buyer"]
    assert user.roles == set()


def test_a_dispute_revokes_and_a_won_dispute_grants_again() -> None:
    directory = InMemoryDirectory()
    user = purchased(directory)

    disputed = handle(directory, form_body("sale", resource_name="dispute", disputed="true"))
    assert disputed.changes == ("role_removed", "record_saved")
    assert user.roles == set()
    assert directory.record(BUYER)["purchases"][0]["status"] == "disputed"

    won = handle(directory, form_body("sale", resource_name="dispute_won", disputed="true", dispute_won="true"))
    assert won.changes == ("role_assigned", "record_saved")
    assert user.roles == {SERVERLESS_ROLE}
    assert directory.record(BUYER)["purchases"][0]["status"] == "active"


# --- memberships ---------------------------------------------------------------------------------


def test_subscription_ended_revokes_and_subscription_restarted_grants_again() -> None:
    directory = InMemoryDirectory()
    user = membership_buyer(directory)
    assert user.roles == {MEMBERSHIP_ROLE}

    ended = handle(
        directory, subscription_body("subscription_ended", ended_at="2021-03-05T19:38:56Z", ended_reason="cancelled")
    )
    assert ended.changes == ("role_removed", "record_saved")
    assert user.roles == set()
    assert directory.record(SUBSCRIBER, MEMBERSHIP_KEY)["purchases"][0]["status"] == "ended"

    restarted = handle(directory, subscription_body("subscription_restarted", restarted_at="2021-04-01T08:00:00Z"))
    assert restarted.changes == ("role_assigned", "record_saved")
    assert user.roles == {MEMBERSHIP_ROLE}
    assert directory.record(SUBSCRIBER, MEMBERSHIP_KEY)["purchases"][0]["status"] == "active"


def test_a_subscription_event_for_an_unknown_subscriber_is_ignored_and_creates_nobody() -> None:
    directory = InMemoryDirectory()

    outcome = handle(directory, subscription_body("subscription_ended", ended_at="2021-03-05T19:38:56Z"))

    assert (outcome.status, outcome.reason) == (IGNORED, "unknown_buyer")
    assert directory.operations == ["find_buyer"]
    assert directory.users == {}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(recorded_body("cancellation"), id="cancellation"),
        pytest.param(subscription_body("subscription_updated", type="upgrade"), id="subscription_updated"),
    ],
)
def test_a_cancellation_or_a_plan_change_leaves_access_alone(body: str) -> None:
    directory = InMemoryDirectory()
    user = membership_buyer(directory)

    outcome = handle(directory, body)

    assert (outcome.status, outcome.reason) == (IGNORED, "no_access_change")
    assert directory.calls == []
    assert user.roles == {MEMBERSHIP_ROLE}


# --- what is never provisioned -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(recorded_body("test_ping"), "test_ping", id="settings-page-test-ping"),
        pytest.param(form_body("sale", test="true"), "test_purchase", id="sellers-own-purchase"),
        pytest.param(form_body("sale", product_id="not-in-the-catalogue"), "unknown_product", id="unknown-product"),
        pytest.param(form_body("sale", resource_name="something_new"), "unhandled_event", id="unhandled-event"),
    ],
)
def test_what_grants_nothing_is_ignored_without_asking_the_directory(body: str, reason: str) -> None:
    directory = InMemoryDirectory()

    outcome = handle(directory, body)

    assert (outcome.status, outcome.reason) == (IGNORED, reason)
    assert directory.calls == []


def test_a_sellers_own_purchase_is_provisioned_when_allowed() -> None:
    directory = InMemoryDirectory()

    outcome = fulfilment(directory, provision_test_purchases=True).handle(event(form_body("sale", test="true")))

    assert outcome.status == PROCESSED
    assert directory.users[BUYER].roles == {SERVERLESS_ROLE}


# --- partial failures: nothing is lost, a redelivery finishes the work ---------------------------


def test_a_failed_role_assignment_for_a_new_buyer_corrects_the_record_and_a_resend_assigns_it() -> None:
    welcomes = Welcomes()
    directory = InMemoryDirectory(failures={"assign_role": [UpstreamRejected("role rol_x does not exist")]})

    with pytest.raises(UpstreamRejected):
        fulfilment(directory, onboarding=welcomes).handle(event(recorded_body("sale")))

    assert directory.operations == ["find_buyer", "create_buyer", "assign_role", "save_record"]
    assert directory.record(BUYER)["role_assigned"] is False
    assert directory.record(BUYER)["purchases"][0]["status"] == "active"
    assert welcomes.sent == [BUYER], "the account exists: the buyer is welcomed even though the role failed"

    outcome = handle(directory, recorded_body("sale"))
    assert outcome.changes == ("role_assigned", "record_saved")
    assert directory.users[BUYER].roles == {SERVERLESS_ROLE}


def test_when_the_record_correction_fails_too_the_assignment_error_is_raised_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory = InMemoryDirectory(
        failures={"assign_role": [UpstreamUnavailable("assign failed")], "save_record": [UpstreamUnavailable("x")]}
    )

    with caplog.at_level(logging.WARNING, logger="gumroad_auth0"), pytest.raises(UpstreamUnavailable, match="assign"):
        handle(directory, recorded_body("sale"))

    assert "record_correction_failed" in caplog.text
    # The record still says "assigned": only a re-read (any redelivery does one) finds the truth.
    assert handle(directory, recorded_body("sale"), verify_role=True).changes == ("role_verified", "role_assigned")


def test_a_record_write_that_fails_after_the_role_leaves_the_work_for_a_plain_resend() -> None:
    directory = InMemoryDirectory(failures={"save_record": [UpstreamUnavailable("Auth0 answered 503")]})
    user = directory.add(BUYER)

    with pytest.raises(UpstreamUnavailable):
        handle(directory, recorded_body("sale"))
    assert user.roles == {SERVERLESS_ROLE}
    assert HANDBOOK_KEY not in user.app_metadata, "the record is the commit marker: not written, not done"

    outcome = handle(directory, recorded_body("sale"))
    assert outcome.changes == ("role_assigned", "record_saved")
    assert directory.record(BUYER)["role_assigned"] is True


def test_a_failed_lookup_is_raised_before_anything_is_written() -> None:
    directory = InMemoryDirectory(failures={"find_buyer": [UpstreamUnavailable("Auth0 timed out")]})

    with pytest.raises(UpstreamUnavailable):
        handle(directory, recorded_body("sale"))
    assert directory.operations == ["find_buyer"]
    assert directory.users == {}


def test_a_failed_onboarding_email_does_not_undo_the_purchase() -> None:
    directory = InMemoryDirectory()

    outcome = fulfilment(directory, onboarding=Welcomes(succeed=False)).handle(event(recorded_body("sale")))

    assert outcome.status == PROCESSED
    assert outcome.changes == ("user_created", "role_assigned", "onboarding_failed")
    assert directory.users[BUYER].roles == {SERVERLESS_ROLE}
