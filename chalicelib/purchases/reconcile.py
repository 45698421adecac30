"""Access that reconciles itself: Gumroad's Sales API, read on a schedule, fed through the ping queue.

Gumroad retries a failed ping three times at most and never after a 4xx, a 429 or a connection error;
a revoked OAuth token silently stops resource-subscription pings; a refunded gift never pings the
giftee's purchase. Each run lists the catalogue's sales since a stored watermark and sends, for each,
the event its ping would have carried (``chalicelib.purchases.sales.observe``) to the SAME FIFO queue the
pings go to: per-buyer order holds, the deduplication id is the event's identity, and the worker's
fulfilment is idempotent, so an event that was already applied costs the worker one lookup.

What is sent, per run (the window):

* every **live sale** created since the watermark minus an overlap: new sales whose ping may be lost;
* every **refund, dispute, won dispute and ended membership** among the sales of the last
  ``lookback_days``: the Sales API lists sales by their creation time, so a refund of an older sale is
  only seen while its sale is inside the lookback.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from chalicelib import metrics
from chalicelib.catalogue import CourseCatalogue
from chalicelib.config.reconcile_settings import DEFAULT_LOOKBACK_DAYS, DEFAULT_OVERLAP_MINUTES, ReconcileSettings
from chalicelib.errors import ConfigurationError, ReconciliationIncomplete, ServiceError
from chalicelib.logs import log_event, mask_email
from chalicelib.purchases.fulfilment import triage
from chalicelib.purchases.gumroad import SALE_RESOURCE_NAMES, format_timestamp
from chalicelib.purchases.outcomes import Outcome
from chalicelib.purchases.ping_log import loggable_id
from chalicelib.purchases.ports import EventQueue, SalesSource, SubscriptionSource, WatermarkStore
from chalicelib.purchases.queue import deduplication_id
from chalicelib.purchases.sales import KINDS, SALE, Observation, observe

log = logging.getLogger("gumroad_auth0.reconcile")

# Everything the service acts on arrives by resource subscription; `sale` may come from the settings-page
# Ping URL instead, which the API cannot read, so its absence is reported but not alarmed on.
NEEDED_RESOURCES = (
    "refund",
    "dispute",
    "dispute_won",
    "cancellation",
    "subscription_ended",
    "subscription_restarted",
)


@dataclass(frozen=True)
class Window:
    """The sales one run reads (``read_after``, a day for the Sales API) and the live ones it sends."""

    read_after: str  # YYYY-MM-DD: Sales::index filters created_at >= that day
    new_since: str  # YYYY-MM-DDTHH:MM:SSZ


def window(
    now: datetime,
    watermark: str | None,
    *,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    overlap_minutes: int = DEFAULT_OVERLAP_MINUTES,
) -> Window:
    """Live sales since the watermark minus the overlap (the lookback when there is none); revocations
    over the lookback, or further back when the watermark is older (the schedule was off)."""
    lookback_start = now - timedelta(days=lookback_days)
    mark = parse_instant(watermark) if watermark else None
    new_since = min(mark - timedelta(minutes=overlap_minutes), now) if mark else lookback_start
    read_from = min(new_since, lookback_start)
    return Window(read_after=read_from.date().isoformat(), new_since=format_timestamp(new_since))


def parse_instant(text: str) -> datetime:
    """A stored watermark (``YYYY-MM-DDTHH:MM:SSZ``) or a day (``YYYY-MM-DD``, midnight UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(f"{text[:40]!r} is not a date (YYYY-MM-DD) or an ISO 8601 instant") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Sent:
    """One event a run sends (or, dry, would send)."""

    kind: str
    sale_id: str
    buyer: str | None  # masked
    course: str


@dataclass
class Report:
    apply: bool
    window: Window
    sales_read: int = 0
    sent: list[Sent] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    already_checked: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)

    def by_kind(self) -> Counter[str]:
        return Counter(item.kind for item in self.sent)

    def as_fields(self) -> dict[str, Any]:
        """The run's log fields: counts only, never an address."""
        kinds = self.by_kind()
        return {
            "apply": self.apply,
            "read_after": self.window.read_after,
            "new_since": self.window.new_since,
            "sales_read": self.sales_read,
            ("enqueued" if self.apply else "would_enqueue"): {kind: kinds[kind] for kind in KINDS},
            "already_checked": self.already_checked,
            "skipped": dict(sorted(self.skipped.items())),
            "failed": self.failed,
        }

    def as_text(self) -> str:
        verb = "enqueued" if self.apply else "would enqueue (dry run; add --apply)"
        kinds = self.by_kind()
        lines = [
            f"reconcile: sales created since {self.window.read_after} ({self.sales_read} read); "
            f"live sales re-sent from {self.window.new_since}",
            f"  {verb}: " + ", ".join(f"{kind} {kinds[kind]}" for kind in KINDS),
            f"  live sales before {self.window.new_since} (checked by an earlier run): {self.already_checked}",
            "  skipped: " + (", ".join(f"{reason} {count}" for reason, count in sorted(self.skipped.items())) or "0"),
        ]
        if self.failed:
            lines.append(f"  failed to enqueue: {self.failed}")
        lines += [f"note: {note}" for note in self.notes]
        if self.sent:
            rows = [("KIND", "SALE", "BUYER", "COURSE")] + [
                (item.kind, item.sale_id, item.buyer or "-", item.course) for item in self.sent
            ]
            widths = [max(len(row[column]) for row in rows) for column in range(3)]
            lines.append("")
            lines += [
                "  ".join(value.ljust(width) for value, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
                for row in rows
            ]
        return "\n".join(lines)


class Reconciler:
    """Reads the catalogue's sales in a window and sends what each says through the ping queue."""

    def __init__(
        self,
        *,
        sales: SalesSource,
        catalogue: CourseCatalogue,
        sink: EventQueue | None,
        seller_id: str | None,
        provision_test_purchases: bool,
    ) -> None:
        self._sales = sales
        self._catalogue = catalogue
        self._sink = sink
        self._seller_id = seller_id
        self._provision_test_purchases = provision_test_purchases

    def run(self, window: Window, *, now: datetime) -> Report:
        """Send (``sink`` set) or list (``sink`` None: a dry run) the events of ``window``; never raises for
        one event. The caller advances the watermark only when ``failed`` is 0."""
        report = Report(apply=self._sink is not None, window=window)
        observed_at = format_timestamp(now)
        sent_ids: set[str] = set()
        sales = self._read(window, report)
        for sale in sorted(sales, key=lambda item: (str(item.get("created_at") or ""), str(item.get("id") or ""))):
            seen = observe(sale, seller_id=self._seller_id, observed_at=observed_at)
            self._consider(seen, window, report, sent_ids)
        return report

    def _read(self, window: Window, report: Report) -> list[dict[str, Any]]:
        sales: dict[str, dict[str, Any]] = {}
        not_ids = []
        for course in self._catalogue:
            for key in course.gumroad_products:
                if key not in course.product_ids:
                    not_ids.append(f"{key!r} ({course.slug})")
                    continue
                for page in self._sales.sales_pages(product_id=key, after=window.read_after):
                    for sale in page:
                        sales.setdefault(str(sale.get("id")), sale)
        if not_ids:
            report.notes.append("not read, not Gumroad product ids (the Sales API wants one): " + ", ".join(not_ids))
        report.sales_read = len(sales)
        return list(sales.values())

    def _consider(self, seen: Observation, window: Window, report: Report, sent_ids: set[str]) -> None:
        if seen.event is None or seen.kind is None:
            report.skipped[_reason_key(seen.skip)] += 1
            return
        if seen.kind == SALE and (seen.created_at is None or _normal(seen.created_at) < window.new_since):
            report.already_checked += 1
            return
        decision = triage(
            seen.event, catalogue=self._catalogue, provision_test_purchases=self._provision_test_purchases
        )
        if isinstance(decision, Outcome):
            report.skipped[decision.reason or "ignored"] += 1
            return
        identity = deduplication_id(decision.event)
        if identity in sent_ids:  # the charges of one ended membership: one end is enough
            return
        sent_ids.add(identity)
        if self._sink is not None:
            try:
                self._sink.enqueue(decision.event)
            except ServiceError as error:
                report.failed += 1
                log_event(
                    log, logging.ERROR, "reconciliation_not_queued", sale_id=loggable_id(seen.sale_id), error=error.code
                )
                return
        report.sent.append(Sent(seen.kind, seen.sale_id, mask_email(decision.event.email), decision.course.slug))


def _reason_key(skip: str | None) -> str:
    return (skip or "skipped").split(":", 1)[0]


def _normal(timestamp: str) -> str:
    try:
        return format_timestamp(parse_instant(timestamp))
    except ConfigurationError:
        return ""


# --- subscription health -----------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionHealth:
    missing: tuple[str, ...]
    registered: tuple[str, ...]
    sale_registered: bool


def check_subscriptions(api: SubscriptionSource, *, ping_url: str) -> SubscriptionHealth:
    """Which needed resources have no live subscription posting to ``ping_url`` (host and path compared;
    the post URL's secret is never read out, logged or compared here)."""
    target = _endpoint(ping_url)
    if target is None:
        raise ConfigurationError("GUMROAD_PING_URL must be the stack's https:// ping URL")
    registered = []
    for resource in (*NEEDED_RESOURCES, SALE_RESOURCE_NAMES[0]):
        if any(_endpoint(item.post_url) == target for item in api.resource_subscriptions(resource)):
            registered.append(resource)
    missing = tuple(resource for resource in NEEDED_RESOURCES if resource not in registered)
    return SubscriptionHealth(
        missing=missing,
        registered=tuple(item for item in registered if item in NEEDED_RESOURCES),
        sale_registered="sale" in registered,
    )


def _endpoint(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.lower(), parts.path.rstrip("/") or "/"


# --- the watermark -----------------------------------------------------------------------------


# --- one scheduled run -------------------------------------------------------------------------


def run_scheduled(
    *,
    reconciler: Reconciler,
    subscriptions: SubscriptionSource,
    watermark: WatermarkStore,
    settings: ReconcileSettings,
    now: datetime,
) -> Report:
    """One run of the schedule: reconcile, check the subscriptions, log and measure both, then move the
    watermark to this run's start. Raises when either part failed, so the invocation counts as an error."""
    started = format_timestamp(now)
    report: Report | None = None
    problems: list[str] = []
    try:
        mark = watermark.read()
        report = reconciler.run(
            window(now, mark, lookback_days=settings.lookback_days, overlap_minutes=settings.overlap_minutes),
            now=now,
        )
        _record_run(report)
        if report.failed:
            problems.append(f"{report.failed} events could not be queued")
        else:
            watermark.write(started)
    except ServiceError as error:
        log_event(log, logging.ERROR, "reconciliation_failed", error=error.code, detail=error.message)
        problems.append(f"{error.code}: {error.message}")
    try:
        _record_health(subscriptions, settings)
    except ServiceError as error:
        log_event(log, logging.ERROR, "subscription_check_failed", error=error.code, detail=error.message)
        problems.append(f"{error.code}: {error.message}")
    if problems or report is None:
        raise ReconciliationIncomplete("; ".join(problems) or "no report")
    return report


def _record_run(report: Report) -> None:
    kinds = report.by_kind()
    log_event(log, logging.INFO, "reconciliation_run", **report.as_fields())
    metrics.emit(
        "reconciliation_metrics",
        [metrics.Metric(metrics.RECONCILIATION_ENQUEUED, sum(kinds.values()))],
        properties={f"enqueued_{kind}": kinds[kind] for kind in KINDS},
    )


def _record_health(subscriptions: SubscriptionSource, settings: ReconcileSettings) -> None:
    if settings.ping_url is None:
        raise ConfigurationError("GUMROAD_PING_URL is not set: the subscription check needs the stack's ping URL")
    health = check_subscriptions(subscriptions, ping_url=settings.ping_url)
    level = logging.WARNING if health.missing else logging.INFO
    log_event(
        log,
        level,
        "subscription_health",
        missing=list(health.missing),
        registered=list(health.registered),
        sale_subscribed=health.sale_registered,
    )
    metrics.emit("subscription_metrics", [metrics.Metric(metrics.MISSING_SUBSCRIPTIONS, len(health.missing))])
