"""`ops backfill`: fulfil the catalogue's past Gumroad sales (read from API v2) through the ping's own code path."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from chalicelib.catalogue import CourseCatalogue, looks_like_product_id
from chalicelib.errors import MalformedPing, ServiceError
from chalicelib.logs import mask_email
from chalicelib.purchases.events import SaleEvent
from chalicelib.purchases.fulfilment import Fulfilment, triage
from chalicelib.purchases.gumroad import event_from_fields
from chalicelib.purchases.holders import TrustPolicy
from chalicelib.purchases.outcomes import ALREADY_DONE, IGNORED, PROCESSED, Outcome
from chalicelib.purchases.outcomes import QUEUED as QUEUED_OUTCOME
from chalicelib.purchases.ports import Buyer, Directory, EventQueue, SalesSource
from chalicelib.purchases.sales import sale_fields, skip_reason
from ops.backfill_report import (
    FAILED,
    GRANTED,
    HAD_ACCESS,
    MAX_CONSECUTIVE_FAILURES,
    QUEUED,
    SKIPPED,
    Progress,
    Report,
    SaleResult,
    estimate,
)
from ops.errors import InvalidOption

if TYPE_CHECKING:
    from ops.settings import Settings

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Each past sale gets the worker's kind of budget: a backfill is not bound by Gumroad's 5 s.
BACKFILL_SALE_SECONDS = 60.0

Fulfil = Callable[[SaleEvent], Outcome]

BACKFILL_DOC = """Fulfil the past sales of the catalogue's products through the ping's own code path.

Reads GET /v2/sales (Gumroad API v2, view_sales) for every catalogue product id, page by page
(page_key), and hands each sale, as the `sale` ping would carry it, to the deployment's fulfilment
with verify_role (a role the buyer's record says is held is read back from Auth0). It uses the
service's own M2M credentials and scopes. Running it again is safe: a buyer whose record already
holds the sale and the role costs no write and is counted as "already had access".

Skipped before any Auth0 call: refunded and charged-back sales, memberships that are no longer
alive (ended, failed, or cancelled with the date passed), a gift's purchase by the giver (the
giftee's own purchase is not in the Sales API: resend its ping from Gumroad instead), other
sellers' sales, and the later charges of a membership (it is fulfilled once). The Sales API never
lists test purchases. Catalogue keys that are not product ids (permalinks, URLs) cannot be queried.

Dry run (the default): read-only lookups in Auth0 (users-by-email, a user's roles) to say who
would be created or granted; no user, role, record or e-mail is written. With --apply, new buyers
get the deployment's onboarding e-mail (BUYER_ONBOARDING), as after a ping; a buyer given the role
by hand earlier gets a purchase record and is counted as granted (Auth0 keeps one role).
Progress goes to stderr, the summary to stdout. A run stops after 10 failures in a row; the exit
code is 1 when a sale failed or the run stopped.
"""


def add_backfill(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backfill = commands.add_parser(
        "backfill",
        help="fulfil past Gumroad sales of the catalogue's products (dry run unless --apply)",
        description=BACKFILL_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backfill.add_argument("--after", help="only sales on or after this day (YYYY-MM-DD)")
    backfill.add_argument("--before", help="only sales before this day (YYYY-MM-DD)")
    backfill.add_argument("--product", action="append", default=[], help="only this catalogue product id (repeatable)")
    backfill.add_argument("--verbose", action="store_true", help="also list the sales whose buyer already had access")
    backfill.add_argument(
        "--apply", action="store_true", help="really create buyers and assign roles (default: dry run)"
    )
    backfill.set_defaults(run=run_backfill)


def run_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from chalicelib import wiring
    from ops.gumroad import gumroad_api

    after = checked_date(args.after, "--after")
    before = checked_date(args.before, "--before")
    settings.require_auth0()
    api = gumroad_api(settings)
    purchase = wiring.get_purchase_settings()
    catalogue = wiring.get_catalogue()
    fulfil = _fulfilment(settings, apply=args.apply)
    sales, notes = collect(api, catalogue, products=args.product, after=after, before=before, progress=sys.stderr)
    planned = plan(sales, seller_id=purchase.seller_id)
    print(estimate(planned, apply=args.apply, rate=purchase.management_rate), file=sys.stderr)
    progress = Progress(len(planned), stream=sys.stderr, apply=args.apply)
    report = run(planned, fulfil=fulfil, apply=args.apply, progress=progress)
    report.notes[:0] = notes
    print(report.as_text(verbose=args.verbose))
    return 1 if report.failed or report.stopped else 0


def _fulfilment(settings: Settings, *, apply: bool) -> Fulfil:
    """Where each past sale goes: the work queue when there is one, else the ping's fulfilment here."""
    from chalicelib import wiring
    from chalicelib.aws.sqs import PingQueue
    from chalicelib.deadlines import Deadline, upstream_scope
    from ops import aws

    purchase = wiring.get_purchase_settings()
    queue_url = settings.work_queue_url()
    if apply and queue_url is not None:
        queue = PingQueue(client_factory=aws.sqs, queue_url=queue_url)
        return queue_fulfilment(
            queue, catalogue=wiring.get_catalogue(), provision_test_purchases=purchase.provision_test_purchases
        )
    handle: Callable[..., Outcome] = wiring.get_dispatch().fulfil_inline
    if not apply:
        handle = dry_run_fulfilment(
            catalogue=wiring.get_catalogue(),
            directory=wiring.get_directory(),
            provision_test_purchases=purchase.provision_test_purchases,
            trust=wiring.get_trust_policy(),
        ).handle

    def fulfil(event: SaleEvent) -> Outcome:
        with upstream_scope(Deadline.after(BACKFILL_SALE_SECONDS)):
            return handle(event, verify_role=True)

    return fulfil


def checked_date(value: str | None, option: str) -> str | None:
    """``YYYY-MM-DD`` as Gumroad's ``after``/``before`` want it, or an InvalidOption."""
    if value is None:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        raise InvalidOption(f"{option} must be a date written YYYY-MM-DD, not {value!r}") from None
    return value


@dataclass(frozen=True)
class Planned:
    sale: Mapping[str, Any]
    skip: str | None = None


def plan(sales: Sequence[Mapping[str, Any]], *, seller_id: str | None) -> list[Planned]:
    """Each sale once, with why it is skipped; a membership is fulfilled once, from its first live charge."""
    planned: list[Planned] = []
    memberships: set[str] = set()
    for sale in sorted(sales, key=lambda item: (str(item.get("created_at") or ""), str(item.get("id") or ""))):
        reason = skip_reason(sale, seller_id=seller_id)
        membership = sale.get("subscription_id")
        if reason is None and isinstance(membership, str) and membership:
            if membership in memberships:
                reason = "later_charge_of_same_membership"
            memberships.add(membership)
        planned.append(Planned(sale, reason))
    return planned


def collect(
    api: SalesSource,
    catalogue: CourseCatalogue,
    *,
    products: Sequence[str] = (),
    after: str | None = None,
    before: str | None = None,
    progress: IO[str] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every sale of the catalogue's products (or of ``products``), each once; plus notes on keys not queried."""
    keys = [(course.slug, key) for course in catalogue for key in course.gumroad_products]
    for key in products:
        if key not in {known for _, known in keys}:
            raise InvalidOption(f"--product {key!r} is not in the catalogue")
        if not looks_like_product_id(key):
            raise InvalidOption(f"--product {key!r} is not a Gumroad product id (the Sales API wants one)")
    queried = [key for _, key in keys if looks_like_product_id(key) and (not products or key in products)]
    not_ids = [f"{key!r} ({slug})" for slug, key in keys if not looks_like_product_id(key)]
    notes = []
    if not_ids and not products:
        notes.append(
            "not queried, not product ids (the Sales API filters by product_id only; keep each product's id in "
            "the catalogue): " + ", ".join(not_ids)
        )
    sales: dict[str, dict[str, Any]] = {}
    for key in queried:
        of_product: set[str] = set()
        for number, page in enumerate(api.sales_pages(product_id=key, after=after, before=before), start=1):
            for sale in page:
                of_product.add(str(sale.get("id")))
                sales.setdefault(str(sale.get("id")), sale)
            _status(progress, f"reading the sales of {key}: page {number}, {_sales(len(of_product))}", done=False)
        _status(progress, f"read the sales of {key}: {_sales(len(of_product))} ({len(sales)} in all)", done=True)
    return list(sales.values()), notes


def _sales(count: int) -> str:
    return f"{count} sale{'' if count == 1 else 's'}"


def _status(stream: IO[str] | None, text: str, *, done: bool) -> None:
    """One status line: rewritten in place on a terminal; only finished lines elsewhere."""
    if stream is None:
        return
    if stream.isatty():
        stream.write(f"\r{text:<79}" + ("\n" if done else ""))
        stream.flush()
    elif done:
        stream.write(text + "\n")


def run(
    planned: Sequence[Planned],
    *,
    fulfil: Fulfil,
    apply: bool,
    progress: Progress | None = None,
) -> Report:
    """Fulfil each planned sale, in order; never raises for one sale's failure."""
    report = Report(apply=apply)
    failures_in_a_row = 0
    for done, item in enumerate(planned, start=1):
        result = _one(item, fulfil)
        report.results.append(result)
        failures_in_a_row = failures_in_a_row + 1 if result.status == FAILED else 0
        if progress is not None:
            progress.update(done, report.counts())
        if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            report.stopped = True
            break
    if progress is not None:
        progress.finish()
    return report


def _one(item: Planned, fulfil: Fulfil) -> SaleResult:
    sale = item.sale
    sale_id = str(sale.get("id") or "-")
    raw_email = sale.get("purchase_email") or sale.get("email")
    buyer = mask_email(raw_email.strip().lower()) if isinstance(raw_email, str) else None
    if item.skip is not None:
        return SaleResult(SKIPPED, sale_id, buyer, None, item.skip)
    try:
        event = event_from_fields(sale_fields(sale))
        if not isinstance(event, SaleEvent):
            return SaleResult(FAILED, sale_id, buyer, None, "not a sale")
        if event.email_problem is not None:
            return SaleResult(FAILED, sale_id, buyer, None, f"unusable buyer address ({event.email_problem})")
        outcome = fulfil(event)
    except MalformedPing as error:
        return SaleResult(FAILED, sale_id, buyer, None, f"unreadable sale: {error.message}")
    except ServiceError as error:
        return SaleResult(FAILED, sale_id, buyer, None, f"{error.code}: {error.message}")
    status, detail = classify(outcome)
    return SaleResult(status, sale_id, buyer, outcome.course, detail)


def classify(outcome: Outcome) -> tuple[str, str]:
    """A fulfilment outcome as a backfill status and its detail."""
    changes = ", ".join(outcome.changes) or "-"
    if outcome.status == IGNORED:
        return SKIPPED, outcome.reason or "ignored"
    if outcome.status == QUEUED_OUTCOME:
        return QUEUED, "in the buyer's queue group"
    if "role_assigned" in outcome.changes:
        return GRANTED, changes
    if outcome.status in (PROCESSED, ALREADY_DONE):
        return HAD_ACCESS, changes
    return FAILED, f"unexpected outcome {outcome.status}"


def queue_fulfilment(queue: EventQueue, *, catalogue: CourseCatalogue, provision_test_purchases: bool) -> Fulfil:
    """``--apply`` in a deployment with a work queue: each sale goes to its buyer's FIFO group.

    The worker fulfils it, one event of a buyer at a time, re-reading the buyer's roles (the
    message is marked redriven): a backfill never writes to Auth0 beside the worker. What needs no
    Auth0 (a product in no course, say) is decided here, as the ping route does.
    """

    def fulfil(event: SaleEvent) -> Outcome:
        decision = triage(event, catalogue=catalogue, provision_test_purchases=provision_test_purchases)
        if isinstance(decision, Outcome):
            return decision
        queue.enqueue(decision.event, redriven=True)
        return Outcome(QUEUED_OUTCOME, event.event_name, course=decision.course.slug)

    return fulfil


def dry_run_fulfilment(
    *, catalogue: CourseCatalogue, directory: Directory, provision_test_purchases: bool, trust: TrustPolicy
) -> Fulfilment:
    """The ping's fulfilment over a directory that only reads, with no onboarding e-mail."""
    return Fulfilment(
        catalogue=catalogue,
        directory=DryRunDirectory(directory, connection=trust.database_connection),
        onboarding=None,
        send_verification_email=False,
        provision_test_purchases=provision_test_purchases,
        trust=trust,
    )


class DryRunDirectory:
    """Reads from Auth0, writes nowhere.

    What a write would have done is remembered, so a later sale of the same run (a second
    course for one buyer, say) sees the buyer and role the dry run "created".
    """

    def __init__(self, directory: Directory, *, connection: str) -> None:
        self._directory = directory
        self._connection = connection
        self._created: dict[str, Buyer] = {}
        self._metadata: dict[str, dict[str, Any]] = {}
        self._roles: dict[str, set[str]] = {}

    def find_users(self, email: str) -> list[Buyer]:
        created = self._created.get(email)
        users = [created] if created is not None else list(self._directory.find_users(email))
        return [
            replace(user, app_metadata={**user.app_metadata, **self._metadata.get(user.user_id, {})}) for user in users
        ]

    def create_buyer(
        self,
        *,
        email: str,
        name: str | None,
        app_metadata: Mapping[str, Any],
        send_verification_email: bool,
    ) -> Buyer:
        buyer = Buyer(
            user_id=f"dry-run|{len(self._created) + 1}", app_metadata={}, email=email, connection=self._connection
        )
        self._created[email] = buyer
        self._metadata[buyer.user_id] = dict(app_metadata)
        return buyer

    def assign_role(self, user_id: str, role_id: str) -> None:
        self._roles.setdefault(user_id, set()).add(role_id)

    def remove_role(self, user_id: str, role_id: str) -> None:
        self._roles.setdefault(user_id, set()).discard(role_id)

    def has_role(self, user_id: str, role_id: str) -> bool:
        if role_id in self._roles.get(user_id, set()):
            return True
        if user_id.startswith("dry-run|"):
            return False
        return self._directory.has_role(user_id, role_id)

    def save_records(self, user_id: str, documents: Mapping[str, Any]) -> None:
        self._metadata.setdefault(user_id, {}).update(documents)
