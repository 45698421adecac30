"""python -m ops: operator commands. Anything that writes is a dry run unless --apply is given.

Settings come from the environment, as in the deployed function (AUTH0_DOMAIN, AUTH0_SECRET_ID,
PING_QUEUE_URL, PING_DEAD_LETTER_QUEUE_URL, COURSES_FILE, ...); --stage NAME loads a stage's
variables from .chalice/config.json first. AWS credentials and region come from the usual boto3
sources (AWS_PROFILE, AWS_REGION, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.errors import ServiceError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.stage:
        _load_stage(args.stage)
    try:
        return int(args.run(args))
    except ServiceError as error:
        print(f"ops: {error.code}: {error.message}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", help="load this stage's environment variables from .chalice/config.json")
    commands = parser.add_subparsers(dest="command", required=True)

    dlq = commands.add_parser("dlq", help="the dead-letter queue of pings the worker could not process")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    show = dlq_commands.add_parser("show", help="list dead letters with their reason (changes nothing)")
    show.set_defaults(run=_dlq_show)
    move = dlq_commands.add_parser("redrive", help="move dead letters back to the work queue")
    move.add_argument("--apply", action="store_true", help="really move them (default: dry run)")
    move.set_defaults(run=_dlq_redrive)

    rerun = commands.add_parser("rerun", help="process one sale's dead letters now, re-reading the buyer's roles")
    rerun.add_argument("sale_id")
    rerun.add_argument("--apply", action="store_true", help="really call Auth0 (default: dry run)")
    rerun.set_defaults(run=_rerun)
    return parser


def _dlq_show(args: argparse.Namespace) -> int:
    from ops.dead_letters import as_text, read_all

    letters = read_all(_sqs(), _url("PING_DEAD_LETTER_QUEUE_URL"))
    print(as_text([letter.summary() for letter in letters]))
    return 0


def _dlq_redrive(args: argparse.Namespace) -> int:
    from ops.dead_letters import as_text, redrive

    report = redrive(
        _sqs(), dead_letter_url=_url("PING_DEAD_LETTER_QUEUE_URL"), queue_url=_url("PING_QUEUE_URL"), apply=args.apply
    )
    print(as_text(report))
    return 0


def _rerun(args: argparse.Namespace) -> int:
    from chalicelib import wiring
    from chalicelib.fulfilment import Outcome
    from chalicelib.ping_queue import QueuedEvent
    from chalicelib.upstream_policy import Deadline, upstream_scope
    from ops.dead_letters import as_text, rerun

    def fulfil(event: QueuedEvent) -> Outcome:
        with upstream_scope(Deadline.after(60.0)):
            return wiring.get_fulfilment().handle(event, verify_role=True)

    report = rerun(
        _sqs(),
        dead_letter_url=_url("PING_DEAD_LETTER_QUEUE_URL"),
        sale_id=args.sale_id,
        fulfil=fulfil,
        apply=args.apply,
    )
    print(as_text(report) if report else f"no dead letter for sale {args.sale_id}")
    return 0 if report else 1


def _url(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SystemExit(f"ops: set {name} (the queue's URL, from the stack's outputs)")
    return value


def _sqs() -> SQSClient:
    import boto3

    return boto3.client("sqs")


def _load_stage(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        raise SystemExit(f"ops: no stage {stage!r} in .chalice/config.json")
    variables = {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}
    for name, value in variables.items():
        os.environ.setdefault(name, str(value))


if __name__ == "__main__":
    raise SystemExit(main())
