""".venv/bin/python -m ops: operator commands. Anything that writes is a dry run unless --apply is given.

Settings come from the deployed stack (--stack NAME: its CloudFormation parameters and outputs give
AUTH0_DOMAIN, AUTH0_AUDIENCE, AUTH0_SECRET_ID, GUMROAD_SELLER_ID and the queue URLs, and win), from the
environment, and from a stage of .chalice/config.json for what is still unset (--stage NAME: the packaged
settings, e.g. COURSES_FILE; `--stage local` is the sandbox). A placeholder value (REPLACE...) is refused.
AWS credentials and region come from the usual boto3 sources (AWS_PROFILE, AWS_DEFAULT_REGION; AWS_REGION
is honoured too). Gumroad commands read GUMROAD_ACCESS_TOKEN (an OAuth token of your Gumroad
application with the view_sales scope). Secrets are never printed unless a command is asked to.
A value that starts with '-' (a Gumroad id can) is written --option=VALUE, or after --.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, cast

from chalicelib.errors import ServiceError
from ops import (
    backfill,
    check,
    content,
    dlq,
    explain,
    gumroad,
    ping_url,
    reconcile,
    rerun,
    resend,
    spa,
    subscribe,
    tenant,
)
from ops.settings import load_settings

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

# One module per command; each registers its parser and sets `run`, called as run(args, settings) -> exit code.
COMMANDS: tuple[Callable[[Commands], None], ...] = (
    dlq.add_dlq,
    rerun.add_rerun,
    subscribe.add_subscribe,
    backfill.add_backfill,
    check.add_check,
    gumroad.add_gumroad,
    ping_url.add_ping_url,
    explain.add_explain,
    resend.add_resend,
    reconcile.add_reconcile,
    spa.add_spa,
    content.add_content,
    tenant.add_tenant,
)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(stack=args.stack, stage=args.stage)
        return int(args.run(args, settings))
    except ServiceError as error:
        return _refused(error)
    except Exception as error:
        from ops.aws import as_service_error

        translated = as_service_error(error)
        if translated is None:
            raise
        return _refused(translated)


def _refused(error: ServiceError) -> int:
    print(f"ops: {error.code}: {error.message}", file=sys.stderr)
    return 2


class _Parser(argparse.ArgumentParser):
    """argparse, with a hint where a value that starts with '-' (a Gumroad id can) was read as an option."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: -") or message.endswith("expected one argument"):
            message += " (a value that starts with '-' is written --option=VALUE, or after --)"
        super().error(message)


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog=".venv/bin/python -m ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument(
        "--stack",
        help="read the deployed stage's settings from this CloudFormation stack, e.g. gumroad-auth0-gate-prod",
    )
    top.add_argument("--stage", help="load this stage's environment variables from .chalice/config.json")
    commands = cast("Commands", top.add_subparsers(dest="command", required=True))
    for add in COMMANDS:
        add(commands)
    return top


if __name__ == "__main__":
    raise SystemExit(main())
