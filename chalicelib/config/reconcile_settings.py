"""The scheduled reconciliation's settings: its watermark parameter, the ping URL it checks, its window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.config.environment import number, optional


@dataclass(frozen=True)
class ReconcileSettings:
    """The scheduled reconciliation's settings (see chalicelib/purchases/reconcile.py)."""

    watermark_parameter: str | None
    ping_url: str | None
    lookback_days: int
    overlap_minutes: int


def load_reconcile_settings(environ: Mapping[str, str]) -> ReconcileSettings:
    return ReconcileSettings(
        watermark_parameter=optional(environ, "RECONCILE_WATERMARK_PARAMETER"),
        ping_url=optional(environ, "GUMROAD_PING_URL"),
        lookback_days=int(number(environ, "RECONCILE_LOOKBACK_DAYS", default=35, low=1, high=400)),
        overlap_minutes=int(number(environ, "RECONCILE_OVERLAP_MINUTES", default=60, low=0, high=10080)),
    )
