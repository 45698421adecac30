"""What handling one event did (``Outcome``), and the writes that bring a user's role and record in line (``Plan``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from chalicelib.purchases.records import CourseRecord

PROCESSED = "processed"
IGNORED = "ignored"
ALREADY_DONE = "already_done"
QUEUED = "queued"


@dataclass(frozen=True)
class Outcome:
    """What handling one event did; becomes the ping's JSON answer and its log line."""

    status: str
    event: str
    reason: str | None = None
    course: str | None = None
    changes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "event": self.event}
        if self.reason:
            body["reason"] = self.reason
        if self.course:
            body["course"] = self.course
        if self.changes:
            body["changes"] = list(self.changes)
        return body


@dataclass(frozen=True)
class Plan:
    """The writes that bring Auth0 in line with a buyer's record (pure data, no I/O)."""

    record: CourseRecord
    role_change: str | None  # "assign" | "remove" | None
    save_record: bool


def plan_change(
    before: CourseRecord, after_event: CourseRecord, *, role_held: bool | None, may_grant: bool = True
) -> Plan:
    """Decide the role change and whether the record must be saved.

    ``role_held`` is what we believe Auth0 holds: the record's own belief, or a fresh read when
    the delivery may follow an interrupted attempt. ``None`` means unknown, which for a buyer
    who should not have access means "remove to be sure" (removing an absent role is harmless).
    ``may_grant`` False (a user that may not hold purchases): no role is assigned, the purchase is held in
    the record (``role_assigned`` false); a role it already holds is left to revocations.
    """
    wanted = after_event.grants_access
    role_change: str | None = None
    if wanted and role_held is not True:
        role_change = "assign" if may_grant else None
    elif not wanted and role_held is not False:
        role_change = "remove"
    final = after_event.with_role(wanted and (may_grant or role_held is True))
    return Plan(record=final, role_change=role_change, save_record=final != before)


def combined(outcomes: list[Outcome]) -> Outcome:
    """One answer for an event applied to several users (duplicates of one address): processed if any wrote."""
    if len(outcomes) == 1:
        return outcomes[0]
    first = outcomes[0]
    status = PROCESSED if any(outcome.status == PROCESSED for outcome in outcomes) else ALREADY_DONE
    changes = tuple(change for outcome in outcomes for change in outcome.changes)
    return replace(first, status=status, changes=changes)
