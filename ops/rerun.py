"""`ops rerun SALE_ID`: one sale's dead letters processed again now, re-reading the buyer's roles."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ServiceError
from ops.dlq import as_text, delete, read_all, send_back
from ops.errors import InvalidOption

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from chalicelib.purchases.outcomes import Outcome
    from chalicelib.purchases.queue import QueuedEvent
    from ops.settings import Settings

# The worker's kind of budget for the one sale: an operator's re-run is not bound by Gumroad's 5 s.
RERUN_SALE_SECONDS = 60.0


def add_rerun(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rerun = commands.add_parser(
        "rerun",
        help="process one sale's dead letters now, re-reading the buyer's roles",
        description="A sale id that starts with '-' (Gumroad's ids are URL-safe base64: one in 64 does) is given "
        "as --sale-id=ID, or after --: rerun --apply -- -AbC...==",
    )
    rerun.add_argument("sale_id", nargs="?", help="the sale's id, as `dlq show` prints it")
    rerun.add_argument(
        "--sale-id",
        dest="sale_id_option",
        metavar="SALE_ID",
        help="the same; --sale-id=SALE_ID for an id that starts with '-'",
    )
    rerun.add_argument("--apply", action="store_true", help="really call Auth0 (default: dry run)")
    rerun.set_defaults(run=run_rerun)


def run_rerun(args: argparse.Namespace, settings: Settings) -> int:
    from chalicelib import wiring
    from chalicelib.deadlines import Deadline, upstream_scope
    from ops import aws

    sale_id = _sale_id(args)
    settings.require_auth0()

    def fulfil(event: QueuedEvent) -> Outcome:
        with upstream_scope(Deadline.after(RERUN_SALE_SECONDS)):
            return wiring.get_dispatch().fulfil_inline(event, verify_role=True)

    dead_letter_url, queue_url = settings.dead_letter_queue_url(), settings.work_queue_url()
    report = rerun(
        aws.sqs(),
        dead_letter_url=dead_letter_url,
        sale_id=sale_id,
        fulfil=fulfil,
        apply=args.apply,
        queue_url=queue_url,
    )
    print(as_text(report) if report else f"no dead letter for sale {sale_id}")
    return 0 if report else 1


def _sale_id(args: argparse.Namespace) -> str:
    given = {value for value in (args.sale_id, args.sale_id_option) if value}
    if len(given) != 1:
        raise InvalidOption(
            "give one sale id: rerun SALE_ID, or rerun --sale-id=SALE_ID for an id that starts with '-'"
        )
    [sale_id] = given
    return str(sale_id)


def rerun(
    sqs: SQSClient,
    *,
    dead_letter_url: str,
    sale_id: str,
    fulfil: Callable[[QueuedEvent], Outcome],
    apply: bool,
    queue_url: str | None = None,
) -> list[dict[str, Any]]:
    """Re-run the dead letters of one sale, re-reading roles instead of trusting records.

    With a work queue (``queue_url``), each goes back into its buyer's FIFO group, marked as
    redriven, and the worker processes it: an operator command never writes to Auth0 beside the
    worker, which may be processing another event of the same buyer at that moment. Without one (a local
    setup), ``fulfil`` processes it right here.
    """
    report = []
    for letter in read_all(sqs, dead_letter_url):
        if letter.event is None or getattr(letter.event, "sale_id", None) != sale_id:
            continue
        line = letter.summary()
        if not apply:
            line["action"] = "would re-run (dry run; add --apply)"
        elif queue_url is not None:
            send_back(sqs, queue_url, letter, letter.event)
            delete(sqs, dead_letter_url, letter.message_id)
            line["action"] = "queued for the worker (it re-reads the buyer's roles)"
        else:
            try:
                outcome = fulfil(letter.event)
            except ServiceError as error:
                line["action"] = f"failed again: {error.code}: {error.message}"
            else:
                delete(sqs, dead_letter_url, letter.message_id)
                line["action"] = "re-run"
                line["outcome"] = outcome.to_json()
        report.append(line)
    return report
