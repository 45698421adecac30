"""`python -m ops reconcile`: the scheduled reconciliation, on demand; dry run unless --apply."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.errors import ConfigurationError

if TYPE_CHECKING:
    from chalicelib.config.reconcile_settings import ReconcileSettings
    from chalicelib.purchases.reconcile import Window
    from ops.settings import Settings

RECONCILE_DOC = """Read the catalogue's sales from Gumroad's Sales API and send what each says through the ping queue,
exactly as the deployed `reconcile` function does every 30 minutes (chalicelib/purchases/reconcile.py):

- every live sale created since the watermark (RECONCILE_WATERMARK_PARAMETER, read, never moved here)
  minus RECONCILE_OVERLAP_MINUTES, or since --after; as the `sale` its ping would have carried;
- every refund, dispute, won dispute and ended membership among the sales of the last
  RECONCILE_LOOKBACK_DAYS (35), or since --after: as `refund`, `dispute`, `dispute_won`, `subscription_ended`;
- a refunded gift as the giftee's refund (Gumroad lists only the giver's purchase and never pings the giftee's).

Dry run (the default): prints what would be sent, with masked buyers; nothing is queued and Auth0 is not
called. --apply sends the events to PING_QUEUE_URL: the worker applies them, one lookup for each that was
already applied. Calls Gumroad with GUMROAD_ACCESS_TOKEN (view_sales). The exit code is 1 when an event
could not be queued.
"""


def add_reconcile(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reconcile = commands.add_parser(
        "reconcile",
        help="send missed sales, refunds, disputes and membership ends through the queue (dry run unless --apply)",
        description=RECONCILE_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reconcile.add_argument("--after", help="every sale created on or after this day (YYYY-MM-DD), live ones included")
    reconcile.add_argument("--apply", action="store_true", help="really queue the events (default: dry run)")
    reconcile.set_defaults(run=run_reconcile)


def run_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from chalicelib import wiring
    from chalicelib.aws.sqs import PingQueue
    from chalicelib.purchases.reconcile import Reconciler
    from ops import aws
    from ops.gumroad import gumroad_api

    schedule = settings.reconcile_settings()
    now = datetime.now(UTC)
    chosen = _window(args.after, schedule, now)
    sink = None
    if args.apply:
        queue_url = settings.work_queue_url()
        if queue_url is None:
            raise ConfigurationError("--apply needs PING_QUEUE_URL (the stack's PingQueueUrl output)")
        sink = PingQueue(client_factory=aws.sqs, queue_url=queue_url)
    reconciler = Reconciler(
        sales=gumroad_api(settings),
        catalogue=wiring.get_catalogue(),
        sink=sink,
        seller_id=settings.seller_id(),
        provision_test_purchases=settings.provision_test_purchases(),
    )
    report = reconciler.run(chosen, now=now)
    print(report.as_text())
    return 1 if report.failed else 0


def _window(after: str | None, schedule: ReconcileSettings, now: datetime) -> Window:
    from chalicelib.aws.parameters import ParameterWatermark
    from chalicelib.purchases.reconcile import Window, window
    from ops import aws
    from ops.backfill import checked_date

    day = checked_date(after, "--after")
    if day is not None:
        return Window(read_after=day, new_since=f"{day}T00:00:00Z")
    mark = None
    if schedule.watermark_parameter:
        mark = ParameterWatermark(client_factory=aws.ssm, name=schedule.watermark_parameter).read()
    return window(now, mark, lookback_days=schedule.lookback_days, overlap_minutes=schedule.overlap_minutes)
