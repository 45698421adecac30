"""Purchase -> access: decide what a Gumroad event means for a buyer's course, then make Auth0 agree.

The buyer's address may have several Auth0 users (one per connection): the event goes to the user whose
record knows the purchase, else to the address's record holder (``purchases.holders``), else the service
creates its own database user. A user that may not hold purchases (an unverified address it did not
create) never receives a role: a purchase that can only land there is **held** in its record, ungranted,
until the address is proved (``purchases.sign_in`` grants it then).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from chalicelib.catalogue import Course, CourseCatalogue
from chalicelib.errors import BuyerAlreadyExists, PurchaseNotYetKnown, ServiceError, UpstreamUnavailable
from chalicelib.logs import log_event, mask_email
from chalicelib.purchases.events import RECONCILIATION_ORIGIN, PingEvent, SaleEvent, SubscriptionEvent, UnhandledEvent
from chalicelib.purchases.holders import HOLDER_KEY, TrustPolicy, holder_marker
from chalicelib.purchases.outcomes import ALREADY_DONE, IGNORED, PROCESSED, Outcome, combined, plan_change
from chalicelib.purchases.ping_log import loggable_id
from chalicelib.purchases.ports import Buyer, Directory, Onboarding
from chalicelib.purchases.records import CourseRecord, PurchaseState, record_key

log = logging.getLogger("gumroad_auth0.fulfilment")

# The defaults the settings also have: the service's own database users, passwordless e-mail and Google.
DEFAULT_TRUST = TrustPolicy(
    database_connection="Username-Password-Authentication", trusted_connections=frozenset({"email", "google-oauth2"})
)


@dataclass(frozen=True)
class Work:
    """An event that needs Auth0, with the course it concerns."""

    event: SaleEvent | SubscriptionEvent
    course: Course


def triage(event: PingEvent, *, catalogue: CourseCatalogue, provision_test_purchases: bool) -> Outcome | Work:
    """The decisions that need no Auth0: ignore (with the reason) or hand over as ``Work``."""
    if isinstance(event, UnhandledEvent):
        return Outcome(IGNORED, event.event_name, reason="unhandled_event")
    name = event.event_name
    course = catalogue.match_product(event.product.product_id, event.product.other_keys)
    if isinstance(event, SubscriptionEvent):
        if course is None:
            return Outcome(IGNORED, name, reason="unknown_product")
        if event.resource_name in ("cancellation", "subscription_updated"):
            # A cancellation takes effect at cancelled_at (often weeks away); Gumroad sends
            # subscription_ended when access really ends.
            return Outcome(IGNORED, name, reason="no_access_change", course=course.slug)
        return _unusable_address(event, course) or Work(event, course)
    if event.shadowed_keys:
        log_event(
            log,
            logging.WARNING,
            "sale_needs_review",
            problem="a custom field replaces a field the service relies on",
            sale_id=loggable_id(event.sale_id),
            shadowed=list(event.shadowed_keys),
        )
        return Outcome(IGNORED, name, reason="custom_field_shadows_" + "_".join(event.shadowed_keys))
    if event.test and event.resource_name is None:
        return Outcome(IGNORED, name, reason="test_ping")
    if event.test and not provision_test_purchases:
        return Outcome(IGNORED, name, reason="test_purchase")
    if course is None:
        return Outcome(IGNORED, name, reason="unknown_product")
    if event.resource_name == "refund" and not event.refunded:
        return Outcome(IGNORED, name, reason="partial_refund", course=course.slug)
    return _unusable_address(event, course) or Work(event, course)


def _unusable_address(event: SaleEvent | SubscriptionEvent, course: Course) -> Outcome | None:
    """An address Auth0 can never hold: answered 200 (a retry would fail the same way) and logged for review."""
    if event.email_problem is None:
        return None
    log_event(
        log,
        logging.WARNING,
        "purchase_needs_review",
        problem="the buyer's address cannot be an Auth0 user",
        reason=event.email_problem,
        event_name=event.event_name,
        sale_id=loggable_id(getattr(event, "sale_id", None)),
        subscription_id=loggable_id(event.subscription_id),
        course=course.slug,
        buyer=mask_email(event.email),
    )
    return Outcome(IGNORED, event.event_name, reason="unusable_buyer_email", course=course.slug)


class Fulfilment:
    """Applies Gumroad events to Auth0: finds or creates the buyer, grants or revokes the course."""

    def __init__(
        self,
        *,
        catalogue: CourseCatalogue,
        directory: Directory,
        onboarding: Onboarding | None,
        send_verification_email: bool,
        provision_test_purchases: bool,
        trust: TrustPolicy = DEFAULT_TRUST,
    ) -> None:
        self._catalogue = catalogue
        self._directory = directory
        self._onboarding = onboarding
        self._send_verification_email = send_verification_email
        self._provision_test_purchases = provision_test_purchases
        self._trust = trust

    def handle(self, event: PingEvent, *, verify_role: bool = False) -> Outcome:
        """Triage one event, then apply it if it needs Auth0.

        ``verify_role`` re-reads the role instead of trusting the record. Deliveries that may
        follow an interrupted attempt (a Gumroad retry, an SQS redelivery, an operator's
        re-run) set it: the attempt before may have created the buyer and stopped before the
        role was assigned.
        """
        decision = triage(event, catalogue=self._catalogue, provision_test_purchases=self._provision_test_purchases)
        if isinstance(decision, Outcome):
            return decision
        return self.fulfil(decision, verify_role=verify_role)

    def fulfil(self, work: Work, *, verify_role: bool = False) -> Outcome:
        """Make Auth0 agree with one event that ``triage`` said needs work."""
        event = work.event
        if isinstance(event, SubscriptionEvent):
            return self._subscription(event, work.course, verify_role=verify_role)
        return self._sale(event, work.course, verify_role=verify_role or event.retry_count > 0)

    def _sale(self, event: SaleEvent, course: Course, *, verify_role: bool) -> Outcome:
        observed = PurchaseState(
            purchase_id=event.purchase_id,
            sale_id=event.sale_id,
            subscription_id=event.subscription_id,
            product_id=event.product.product_id,
            purchased_at=event.sale_timestamp,
            refunded=event.refunded,
            disputed=event.disputed or event.resource_name in ("dispute", "dispute_won"),
            dispute_won=event.dispute_won or event.resource_name == "dispute_won",
            gift=event.gift,
            self_gift=event.self_gift,
            # Only a sale ping or the Sales API shows the purchase sold. A refund or dispute ping may name a
            # gift's giver's purchase, with the giver's address (see CourseRecord.effective).
            confirmed=event.resource_name == "sale" or event.origin == RECONCILIATION_ORIGIN,
        )
        users = self._directory.find_users(event.email)
        knowers = self._knowing(users, course, sale_id=event.sale_id, subscription_id=event.subscription_id)
        if knowers:
            return self._apply_all(event.event_name, course, knowers, observed, verify_role=verify_role)
        holder = self._trust.holder(users, course_slug=course.slug)
        if holder is not None:
            return self._apply(event.event_name, course, holder, observed, verify_role=verify_role)
        blocker = self._trust.blocker(users, course_slug=course.slug)
        if blocker is not None:
            return self._hold(event, course, blocker, observed, verify_role=verify_role)
        if observed.active:
            return self._create_and_grant(event, course, observed)
        if event.origin == RECONCILIATION_ORIGIN or observed.alive:
            # Read from the Sales API, not raced by its sale: a buyer Auth0 does not know has no access to
            # remove. A won dispute pinged for a buyer Auth0 does not know grants nothing until the sale is
            # seen (reconciliation reads it): it may be a gift's giver's purchase.
            return Outcome(IGNORED, event.event_name, reason="unknown_buyer", course=course.slug)
        # A refund or dispute overtook its sale: say "retry later" so that Gumroad
        # redelivers it once the sale has made the buyer.
        raise PurchaseNotYetKnown("this purchase is not known yet; retry later")

    def _subscription(self, event: SubscriptionEvent, course: Course, *, verify_role: bool) -> Outcome:
        users = self._directory.find_users(event.email)
        targets = self._knowing(
            users, course, sale_id=None, subscription_id=event.subscription_id, purchase_ids=event.purchase_ids
        )
        fallback = self._trust.holder(users, course_slug=course.slug) or self._trust.blocker(
            users, course_slug=course.slug
        )
        if not targets and fallback is None:
            return Outcome(IGNORED, event.event_name, reason="unknown_buyer", course=course.slug)
        outcomes = [
            self._subscription_of(event, course, buyer, verify_role=verify_role)
            for buyer in (targets or [fallback] if fallback is not None else targets)
        ]
        return combined(outcomes)

    def _subscription_of(self, event: SubscriptionEvent, course: Course, buyer: Buyer, *, verify_role: bool) -> Outcome:
        record = CourseRecord.from_app_metadata(buyer.app_metadata, slug=course.slug, role_id=course.role_id)
        known = record.find(sale_id=None, subscription_id=event.subscription_id, purchase_ids=event.purchase_ids)
        settled = known is not None and known.ended and not record.grants_access and record.role_assigned is False
        if event.origin == RECONCILIATION_ORIGIN and settled:
            # The Sales API says "ended by now", not when: an end already recorded is the same end, and
            # moving its date forward on every run would rewrite the record for nothing.
            return Outcome(ALREADY_DONE, event.event_name, course=course.slug)
        observed = PurchaseState(
            purchase_id=known.purchase_id if known else event.subscription_id,
            sale_id=known.sale_id if known else None,
            subscription_id=event.subscription_id,
            product_id=event.product.product_id,
            ended_at=event.occurred_at if event.resource_name == "subscription_ended" else None,
            restarted_at=event.occurred_at if event.resource_name == "subscription_restarted" else None,
            # A membership event says nothing of a sale: a restart of a membership the record does not know
            # is kept (its sale, when seen, merges with it) but grants nothing on its own.
            confirmed=event.origin == RECONCILIATION_ORIGIN,
        )
        return self._apply(event.event_name, course, buyer, observed, verify_role=verify_role, record=record)

    def _apply(
        self,
        name: str,
        course: Course,
        buyer: Buyer,
        observed: PurchaseState,
        *,
        verify_role: bool,
        record: CourseRecord | None = None,
    ) -> Outcome:
        before = record or CourseRecord.from_app_metadata(buyer.app_metadata, slug=course.slug, role_id=course.role_id)
        after = before.with_purchase(observed)
        role_held = before.role_assigned
        changes: list[str] = []
        if verify_role and after.grants_access and role_held is True:
            role_held = self._directory.has_role(buyer.user_id, course.role_id)
            changes.append("role_verified")
        may_grant = self._trust.eligible(buyer)
        plan = plan_change(before, after, role_held=role_held, may_grant=may_grant)
        # The role changes first and the record is written last: the record is the commit
        # marker, so an attempt cut short in between is simply done again.
        if plan.role_change == "assign":
            self._directory.assign_role(buyer.user_id, course.role_id)
            changes.append("role_assigned")
        elif plan.role_change == "remove":
            self._directory.remove_role(buyer.user_id, course.role_id)
            changes.append("role_removed")
        if plan.save_record:
            # The holder's mark (its sign-ins need no call) or the held one's rides on a write made anyway.
            documents = {record_key(course.slug): plan.record.to_json(), **self._trust.marks(buyer)}
            self._directory.save_records(buyer.user_id, documents)
            changes.append("record_saved")
        written = [change for change in changes if change != "role_verified"]
        status = PROCESSED if written else ALREADY_DONE
        return Outcome(status, name, course=course.slug, changes=tuple(changes))

    def _apply_all(
        self, name: str, course: Course, buyers: list[Buyer], observed: PurchaseState, *, verify_role: bool
    ) -> Outcome:
        """The event for every user whose record knows the purchase (one, unless the address has duplicates)."""
        return combined([self._apply(name, course, buyer, observed, verify_role=verify_role) for buyer in buyers])

    def _hold(
        self, event: SaleEvent, course: Course, blocker: Buyer, observed: PurchaseState, *, verify_role: bool
    ) -> Outcome:
        """No user may receive it: the purchase waits, ungranted, in the record of the user holding the address.

        That user is a database user someone registered with the address (or a creator's, when the database
        connection is not trusted): its password was not set through the mailbox, so no e-mail from here
        could make it the buyer's. The mailbox's owner takes the purchase by signing in with a code or a
        verified Google account (``purchases.sign_in``); ``ops explain`` says so.
        """
        outcome = self._apply(event.event_name, course, blocker, observed, verify_role=verify_role)
        if "record_saved" not in outcome.changes or not observed.active:
            return outcome
        log_event(
            log,
            logging.WARNING,
            "purchase_held",
            reason=self._trust.why_not(blocker),
            sale_id=loggable_id(event.sale_id),
            course=course.slug,
            buyer=mask_email(event.email),
        )
        return replace(outcome, changes=(*outcome.changes, "held_unverified_address"))

    def _knowing(
        self,
        users: Sequence[Buyer],
        course: Course,
        *,
        sale_id: str | None,
        subscription_id: str | None,
        purchase_ids: tuple[str, ...] = (),
    ) -> list[Buyer]:
        """The users whose record of ``course`` already has this purchase."""
        return [
            user
            for user in users
            if CourseRecord.from_app_metadata(user.app_metadata, slug=course.slug, role_id=course.role_id).find(
                sale_id=sale_id, subscription_id=subscription_id, purchase_ids=purchase_ids
            )
            is not None
        ]

    def _create_and_grant(self, event: SaleEvent, course: Course, observed: PurchaseState) -> Outcome:
        record = CourseRecord(slug=course.slug, role_id=course.role_id).with_purchase(observed).with_role(True)
        try:
            buyer = self._directory.create_buyer(
                email=event.email,
                name=event.full_name,
                app_metadata={
                    record_key(course.slug): record.to_json(),
                    HOLDER_KEY: holder_marker(created_by_service=True),
                },
                send_verification_email=self._send_verification_email,
            )
        except BuyerAlreadyExists:
            # Another delivery created this buyer between our lookup and our create.
            users = self._directory.find_users(event.email)
            existing = self._trust.holder(users, course_slug=course.slug)
            if existing is not None:
                return self._apply(event.event_name, course, existing, observed, verify_role=True)
            blocker = self._trust.blocker(users, course_slug=course.slug)
            if blocker is None:
                raise UpstreamUnavailable(
                    "Auth0 says this buyer exists but does not find them yet; retry later"
                ) from None
            return self._hold(event, course, blocker, observed, verify_role=True)
        onboarding: str | None = None
        try:
            # The record says "assigned" before the role is (that keeps a new buyer at three
            # calls). If the assignment fails, the record is corrected below; if the worker dies
            # right here, its redelivery (or Gumroad's retry) re-reads the roles before trusting it.
            self._directory.assign_role(buyer.user_id, course.role_id)
        except ServiceError:
            self._forget_assignment(buyer, record)
            raise
        finally:
            onboarding = self._welcome(event.email)
        changes = ("user_created", "role_assigned") + ((f"onboarding_{onboarding}",) if onboarding else ())
        return Outcome(PROCESSED, event.event_name, course=course.slug, changes=changes)

    def _forget_assignment(self, buyer: Buyer, record: CourseRecord) -> None:
        """Best effort: say in the record that the role is not assigned, so any later delivery assigns it."""
        try:
            self._directory.save_records(buyer.user_id, {record_key(record.slug): record.with_role(False).to_json()})
        except ServiceError:
            log_event(log, logging.WARNING, "record_correction_failed")

    def _welcome(self, email: str) -> str | None:
        if self._onboarding is None:
            return None
        return "sent" if self._onboarding.welcome(email) else "failed"
