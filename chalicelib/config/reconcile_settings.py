"""The scheduled reconciliation's settings: its watermark parameter, the ping URL it checks, its window, and
Gumroad's access token (which ``ops``'s Gumroad commands read too)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.config.environment import number, optional
from chalicelib.errors import ConfigurationError

# Sales are read back this many days (refunds of older sales are seen while their sale is inside it) and live
# sales from the last watermark minus this overlap.
DEFAULT_LOOKBACK_DAYS = 35
DEFAULT_OVERLAP_MINUTES = 60
GUMROAD_ACCESS_TOKEN = "GUMROAD_ACCESS_TOKEN"  # noqa: S105 - the variable's name, not a token


@dataclass(frozen=True)
class ReconcileSettings:
    """The scheduled reconciliation's settings (see chalicelib/purchases/reconcile.py)."""

    watermark_parameter: str | None
    ping_url: str | None
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    overlap_minutes: int = DEFAULT_OVERLAP_MINUTES


def load_reconcile_settings(environ: Mapping[str, str]) -> ReconcileSettings:
    return ReconcileSettings(
        watermark_parameter=optional(environ, "RECONCILE_WATERMARK_PARAMETER"),
        ping_url=optional(environ, "GUMROAD_PING_URL"),
        lookback_days=int(number(environ, "RECONCILE_LOOKBACK_DAYS", default=DEFAULT_LOOKBACK_DAYS, low=1, high=400)),
        overlap_minutes=int(
            number(environ, "RECONCILE_OVERLAP_MINUTES", default=DEFAULT_OVERLAP_MINUTES, low=0, high=10080)
        ),
    )


def gumroad_access_token(environ: Mapping[str, str], *, from_secret: str | None = None) -> str:
    """The seller's Gumroad OAuth token (``view_sales``): the secret's ``gumroad_access_token`` when given, else
    GUMROAD_ACCESS_TOKEN (local runs and ``ops``)."""
    token = from_secret or optional(environ, GUMROAD_ACCESS_TOKEN)
    if token is None:
        raise ConfigurationError(
            f"{GUMROAD_ACCESS_TOKEN} is not set: create an access token for your Gumroad OAuth application "
            "(Settings > Advanced > Applications) with the view_sales scope; deployed, it is gumroad_access_token "
            "in the secret AUTH0_SECRET_ID names"
        )
    return token
