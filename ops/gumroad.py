"""`ops gumroad whoami`: who the Gumroad token belongs to, and the seller id the service must be deployed with."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.errors import GumroadApiError

if TYPE_CHECKING:
    from chalicelib.gumroad_api.client import GumroadApi
    from ops.settings import Settings


def add_gumroad(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gumroad = commands.add_parser("gumroad", help="your Gumroad account, as the API token sees it")
    gumroad_commands = gumroad.add_subparsers(dest="gumroad_command", required=True)
    whoami = gumroad_commands.add_parser(
        "whoami",
        help="print your seller id (GUMROAD_SELLER_ID) from GET /v2/user; compare it with the deployment's",
    )
    whoami.set_defaults(run=run_whoami)


def run_whoami(args: argparse.Namespace, settings: Settings) -> int:
    code, text = report(gumroad_api(settings).user(), configured=settings.seller_id())
    print(text)
    return code


def gumroad_api(settings: Settings) -> GumroadApi:
    """Gumroad's API v2 with the operator's GUMROAD_ACCESS_TOKEN (the deployed functions read it from their secret)."""
    from chalicelib.gumroad_api.client import GumroadApi

    return GumroadApi(access_token=settings.gumroad_access_token())


def seller_id_of(user: Mapping[str, Any]) -> str:
    """``user_id`` of ``GET /v2/user``: the ping's ``seller_id`` (both are ``ObfuscateIds.encrypt(id)``).

    Not the user's ``id``, which is the account's external id and appears in no ping.
    """
    value = user.get("user_id")
    if not isinstance(value, str) or not value:
        raise GumroadApiError("Gumroad answered GET /v2/user without a user_id")
    return value


def report(user: Mapping[str, Any], *, configured: str | None) -> tuple[int, str]:
    """``(exit code, text)``: the seller id, and whether the deployment's GUMROAD_SELLER_ID agrees."""
    seller_id = seller_id_of(user)
    name = user.get("name") or "-"
    lines = [
        f"Gumroad account: {name} ({user.get('url') or 'no profile URL'})",
        f"GUMROAD_SELLER_ID={seller_id}",
    ]
    if configured is None:
        lines.append(
            f"deploy with --parameter-overrides GumroadSellerId={seller_id} (docs/creator-guide.md, Deploy, step 5)"
        )
        return 0, "\n".join(lines)
    if configured == seller_id:
        lines.append("the deployment's GUMROAD_SELLER_ID is this account's: its pings are accepted")
        return 0, "\n".join(lines)
    lines.append(
        f"MISMATCH: the deployment's GUMROAD_SELLER_ID is {configured}: every ping of this account is refused "
        f"(403). Update the stack with GumroadSellerId={seller_id}"
    )
    return 1, "\n".join(lines)
