"""What `ops backfill` prints: its estimate before the first call, its progress, and its report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ops.backfill import Planned

GRANTED = "granted"
HAD_ACCESS = "already had access"
QUEUED = "queued"
SKIPPED = "skipped"
FAILED = "failed"
STATUSES = (GRANTED, HAD_ACCESS, QUEUED, SKIPPED, FAILED)

# A run whose every call fails (credentials revoked, a scope missing) stops instead of hammering Auth0.
MAX_CONSECUTIVE_FAILURES = 10
# Management API requests per sale at most (docs/purchases.md, "Cost per purchase"): with --apply a lookup, a create
# or a record save, a role assignment; a dry run's reads are a lookup and the buyer's roles.
REQUESTS_PER_SALE = 3
REQUESTS_PER_SALE_DRY_RUN = 2
# The free tenant's Management API rate, assumed when AUTH0_RATE_LIMIT_PER_SECOND is unset.
ASSUMED_RATE_PER_SECOND = 2.0


@dataclass(frozen=True)
class SaleResult:
    status: str
    sale_id: str
    buyer: str | None  # masked
    course: str | None
    detail: str


@dataclass
class Report:
    apply: bool
    results: list[SaleResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: bool = False

    def counts(self) -> Counter[str]:
        return Counter(result.status for result in self.results)

    @property
    def failed(self) -> int:
        return self.counts()[FAILED]

    def as_text(self, *, verbose: bool = False) -> str:
        counts = self.counts()
        granted = GRANTED if self.apply else "would grant"
        mode = "" if self.apply else " (dry run: read-only lookups in Auth0, nothing written; add --apply)"
        skipped = Counter(result.detail for result in self.results if result.status == SKIPPED)
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
        new_buyers = sum(1 for result in self.results if result.status == GRANTED and "user_created" in result.detail)
        lines = [
            f"backfill: {len(self.results)} sales{mode}",
            f"  {granted:<20} {counts[GRANTED]}  ({new_buyers} new buyer{'' if new_buyers == 1 else 's'})",
            f"  {HAD_ACCESS:<20} {counts[HAD_ACCESS]}",
            *(
                [f"  {QUEUED:<20} {counts[QUEUED]}  (the worker fulfils them; then run ops dlq show)"]
                if counts[QUEUED]
                else []
            ),
            f"  {SKIPPED:<20} {counts[SKIPPED]}" + (f"  ({reasons})" if reasons else ""),
            f"  {FAILED:<20} {counts[FAILED]}",
        ]
        lines += [f"note: {note}" for note in self.notes]
        if self.stopped:
            lines.append(
                f"stopped after {MAX_CONSECUTIVE_FAILURES} failures in a row: fix the cause and run again "
                "(sales already fulfilled are recognised and cost no write)"
            )
        shown = [result for result in self.results if verbose or result.status != HAD_ACCESS]
        if shown:
            lines.append("")
            lines.append(_table(shown, granted_label=granted))
        return "\n".join(lines)


def _table(results: Sequence[SaleResult], *, granted_label: str) -> str:
    rows = [("STATUS", "SALE", "BUYER", "COURSE", "DETAIL")] + [
        (
            granted_label if result.status == GRANTED else result.status,
            result.sale_id,
            result.buyer or "-",
            result.course or "-",
            result.detail,
        )
        for result in results
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join(value.ljust(width) for value, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    )


def estimate(planned: Sequence[Planned], *, apply: bool, rate: float | None) -> str:
    """How long the run may take at the tenant's Management API rate (every sale a new buyer at worst)."""
    to_fulfil = sum(1 for item in planned if item.skip is None)
    requests = to_fulfil * (REQUESTS_PER_SALE if apply else REQUESTS_PER_SALE_DRY_RUN)
    per_second = rate or ASSUMED_RATE_PER_SECOND
    source = "AUTH0_RATE_LIMIT_PER_SECOND" if rate else "assumed: a free tenant; set AUTH0_RATE_LIMIT_PER_SECOND"
    skipped = len(planned) - to_fulfil
    return (
        f"backfill: {to_fulfil} sales to fulfil, {skipped} skipped without a call; up to {requests} Management API "
        f"requests at {per_second:g}/s ({source}): {duration(requests / per_second)} at most "
        "(buyers who already have access cost fewer)"
    )


def duration(seconds: float) -> str:
    """``seconds`` for a person: "under a minute", "about 10 min", "about 2 h 5 min"."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"


class Progress:
    """A progress bar on a terminal; on a pipe or file, one line per tenth of the work."""

    def __init__(self, total: int, *, stream: IO[str], apply: bool = True, width: int = 30) -> None:
        self._total = total
        self._labels = {GRANTED: GRANTED if apply else "would grant"}
        self._stream = stream
        self._width = width
        self._tty = stream.isatty()
        self._last_tenth = -1

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        filled = self._width * done // self._total if self._total else self._width
        line = f"backfill [{'#' * filled}{'.' * (self._width - filled)}] {done}/{self._total}  " + ", ".join(
            f"{self._labels.get(status, status)} {counts.get(status, 0)}" for status in STATUSES
        )
        if self._tty:
            self._stream.write("\r" + line)
            self._stream.flush()
            return
        tenth = 10 * done // self._total if self._total else 10
        if tenth != self._last_tenth or done == self._total:
            self._last_tenth = tenth
            self._stream.write(line + "\n")

    def finish(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
