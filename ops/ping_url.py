"""`ops ping-url`: the ping URL to paste into Gumroad, with the ping secret in it (masked unless --reveal)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ops.settings import Settings


def add_ping_url(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ping_url = commands.add_parser(
        "ping-url",
        help="the ping URL to paste into Gumroad (Settings > Advanced > Ping); the secret is masked unless --reveal",
    )
    ping_url.add_argument("--url", help="the deployed ping URL (default: the stack's GumroadPingUrl output)")
    ping_url.add_argument(
        "--reveal", action="store_true", help="print the URL with the ping secret in it (it is a password)"
    )
    ping_url.set_defaults(run=run_ping_url)


def run_ping_url(args: argparse.Namespace, settings: Settings) -> int:
    from ops.subscribe import endpoint, mask, ping_secret, with_secret

    full = with_secret(endpoint(args.url or settings.ping_url()), ping_secret(settings))
    print(full if args.reveal else mask(full))
    if not args.reveal:
        print("(the secret is masked: add --reveal to print it, e.g. to paste into Gumroad)", file=sys.stderr)
    return 0
