"""Who the Gumroad token belongs to, and the seller id the service must be deployed with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.errors import GumroadApiError


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
