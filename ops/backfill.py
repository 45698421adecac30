"""Backfill: fulfil the catalogue's past Gumroad sales (read from API v2) through the ping's own code path."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from chalicelib.catalogue import CourseCatalogue, looks_like_product_id
from chalicelib.errors import MalformedPing, ServiceError
from chalicelib.logs import mask_email
from chalicelib.purchases.events import SaleEvent
from chalicelib.purchases.fulfilment import (
    ALREADY_DONE,
    IGNORED,
    PROCESSED,
    Fulfilment,
    Outcome,
    triage,
)
from chalicelib.purchases.fulfilment import QUEUED as QUEUED_OUTCOME
from chalicelib.purchases.gumroad import event_from_fields
from chalicelib.purchases.ports import Buyer, Directory, EventQueue, SalesSource
from chalicelib.purchases.sales import sale_fields as sale_fields
from chalicelib.purchases.sales import skip_reason as skip_reason
from ops.errors import InvalidOption

GRANTED = "granted"
HAD_ACCESS = "already had access"
QUEUED = "queued"
SKIPPED = "skipped"
FAILED = "failed"
STATUSES = (GRANTED, HAD_ACCESS, QUEUED, SKIPPED, FAILED)

# ObfuscateIds.encrypt: 16 bytes in URL-safe base64, the form of every Gumroad product_id.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A run whose every call fails (credentials revoked, a scope missing) stops instead of hammering Auth0.
MAX_CONSECUTIVE_FAILURES = 10
# Management API requests per sale at most (docs/purchases.md, "Cost per purchase"): with --apply a lookup, a create
# or a record save, a role assignment; a dry run's reads are a lookup and the buyer's roles.
REQUESTS_PER_SALE = 3
REQUESTS_PER_SALE_DRY_RUN = 2
# The free tenant's Management API rate, assumed when AUTH0_RATE_LIMIT_PER_SECOND is unset.
ASSUMED_RATE_PER_SECOND = 2.0

Fulfil = Callable[[SaleEvent], Outcome]


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


@dataclass(frozen=True)
class SaleResult:
    status: str
    sale_id: str
    buyer: str | None  # masked
    course: str | None
    detail: str


@dataclass
class Report:
    apply: bool
    results: list[SaleResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: bool = False

    def counts(self) -> Counter[str]:
        return Counter(result.status for result in self.results)

    @property
    def failed(self) -> int:
        return self.counts()[FAILED]

    def as_text(self, *, verbose: bool = False) -> str:
        counts = self.counts()
        granted = GRANTED if self.apply else "would grant"
        mode = "" if self.apply else " (dry run: read-only lookups in Auth0, nothing written; add --apply)"
        skipped = Counter(result.detail for result in self.results if result.status == SKIPPED)
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
        new_buyers = sum(1 for result in self.results if result.status == GRANTED and "user_created" in result.detail)
        lines = [
            f"backfill: {len(self.results)} sales{mode}",
            f"  {granted:<20} {counts[GRANTED]}  ({new_buyers} new buyer{'' if new_buyers == 1 else 's'})",
            f"  {HAD_ACCESS:<20} {counts[HAD_ACCESS]}",
            *(
                [f"  {QUEUED:<20} {counts[QUEUED]}  (the worker fulfils them; then run ops dlq show)"]
                if counts[QUEUED]
                else []
            ),
            f"  {SKIPPED:<20} {counts[SKIPPED]}" + (f"  ({reasons})" if reasons else ""),
            f"  {FAILED:<20} {counts[FAILED]}",
        ]
        lines += [f"note: {note}" for note in self.notes]
        if self.stopped:
            lines.append(
                f"stopped after {MAX_CONSECUTIVE_FAILURES} failures in a row: fix the cause and run again "
                "(sales already fulfilled are recognised and cost no write)"
            )
        shown = [result for result in self.results if verbose or result.status != HAD_ACCESS]
        if shown:
            lines.append("")
            lines.append(_table(shown, granted_label=granted))
        return "\n".join(lines)


def _table(results: Sequence[SaleResult], *, granted_label: str) -> str:
    rows = [("STATUS", "SALE", "BUYER", "COURSE", "DETAIL")] + [
        (
            granted_label if result.status == GRANTED else result.status,
            result.sale_id,
            result.buyer or "-",
            result.course or "-",
            result.detail,
        )
        for result in results
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join(value.ljust(width) for value, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    )


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


def estimate(planned: Sequence[Planned], *, apply: bool, rate: float | None) -> str:
    """How long the run may take at the tenant's Management API rate (every sale a new buyer at worst)."""
    to_fulfil = sum(1 for item in planned if item.skip is None)
    requests = to_fulfil * (REQUESTS_PER_SALE if apply else REQUESTS_PER_SALE_DRY_RUN)
    per_second = rate or ASSUMED_RATE_PER_SECOND
    source = "AUTH0_RATE_LIMIT_PER_SECOND" if rate else "assumed: a free tenant; set AUTH0_RATE_LIMIT_PER_SECOND"
    skipped = len(planned) - to_fulfil
    return (
        f"backfill: {to_fulfil} sales to fulfil, {skipped} skipped without a call; up to {requests} Management API "
        f"requests at {per_second:g}/s ({source}): {duration(requests / per_second)} at most "
        "(buyers who already have access cost fewer)"
    )


def duration(seconds: float) -> str:
    """``seconds`` for a person: "under a minute", "about 10 min", "about 2 h 5 min"."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"


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


class Progress:
    """A progress bar on a terminal; on a pipe or file, one line per tenth of the work."""

    def __init__(self, total: int, *, stream: IO[str], apply: bool = True, width: int = 30) -> None:
        self._total = total
        self._labels = {GRANTED: GRANTED if apply else "would grant"}
        self._stream = stream
        self._width = width
        self._tty = stream.isatty()
        self._last_tenth = -1

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        filled = self._width * done // self._total if self._total else self._width
        line = f"backfill [{'#' * filled}{'.' * (self._width - filled)}] {done}/{self._total}  " + ", ".join(
            f"{self._labels.get(status, status)} {counts.get(status, 0)}" for status in STATUSES
        )
        if self._tty:
            self._stream.write("\r" + line)
            self._stream.flush()
            return
        tenth = 10 * done // self._total if self._total else 10
        if tenth != self._last_tenth or done == self._total:
            self._last_tenth = tenth
            self._stream.write(line + "\n")

    def finish(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


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
    *, catalogue: CourseCatalogue, directory: Directory, provision_test_purchases: bool
) -> Fulfilment:
    """The ping's fulfilment over a directory that only reads, with no onboarding e-mail."""
    return Fulfilment(
        catalogue=catalogue,
        directory=DryRunDirectory(directory),
        onboarding=None,
        send_verification_email=False,
        provision_test_purchases=provision_test_purchases,
    )


class DryRunDirectory:
    """Reads from Auth0, writes nowhere.

    What a write would have done is remembered, so a later sale of the same run (a second
    course for one buyer, say) sees the buyer and role the dry run "created".
    """

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._created: dict[str, Buyer] = {}
        self._metadata: dict[str, dict[str, Any]] = {}
        self._roles: dict[str, set[str]] = {}

    def find_buyer(self, email: str) -> Buyer | None:
        buyer = self._created.get(email) or self._directory.find_buyer(email)
        if buyer is None:
            return None
        overlay = self._metadata.get(buyer.user_id, {})
        return Buyer(user_id=buyer.user_id, app_metadata={**buyer.app_metadata, **overlay})

    def create_buyer(
        self,
        *,
        email: str,
        name: str | None,
        app_metadata: Mapping[str, Any],
        send_verification_email: bool,
    ) -> Buyer:
        buyer = Buyer(user_id=f"dry-run|{len(self._created) + 1}", app_metadata={})
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

    def save_record(self, user_id: str, key: str, document: Mapping[str, Any]) -> None:
        self._metadata.setdefault(user_id, {})[key] = dict(document)
