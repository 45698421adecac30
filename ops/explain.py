"""Explain: for one buyer, per course, whether they have access, which purchase says so, and whether Auth0 agrees.

Read-only: one users-by-email lookup and one roles read per course, through the service's own
Auth0Directory. The purchase record is the buyer's ``app_metadata`` (chalicelib.purchases.records), the
role is what Auth0 enforces; when the two disagree the answer names the command that repairs it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.catalogue import Course, CourseCatalogue, looks_like_product_id
from chalicelib.purchases.records import CourseRecord, PurchaseState

if TYPE_CHECKING:
    from ops.settings import Settings

_USERS_PAGE = "Auth0 Dashboard > User Management > Users"
# Reads for one buyer: a lookup and a roles read per course, each with the worker's kind of budget.
EXPLAIN_SECONDS = 60.0

EXPLAIN_DOC = """Why does this buyer have (or not have) each course? Read-only.

For each catalogue course: whether Auth0 holds the course's role for the buyer, the purchases behind
it from the buyer's purchase record (app_metadata) with their status and dates, which purchase grants
access or which refund, dispute or end removed it, and any disagreement between role and record with
the command that repairs it. One users-by-email lookup and one roles read per course, with the
service's own M2M application. Exit code 0 when role and record agree everywhere, 1 when a course
disagrees or no such buyer exists.
"""


def add_explain(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain = commands.add_parser(
        "explain",
        help="one buyer's access per course, the purchases behind it, and any disagreement (read-only)",
        description=EXPLAIN_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain.add_argument("email", help="the buyer's address (as on the Gumroad purchase)")
    explain.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    explain.set_defaults(run=run_explain)


def run_explain(args: argparse.Namespace, settings: Settings) -> int:
    from chalicelib import wiring
    from chalicelib.deadlines import Deadline, upstream_scope

    settings.require_auth0()
    with upstream_scope(Deadline.after(EXPLAIN_SECONDS)):
        answer = explain(wiring.get_directory(), wiring.get_catalogue(), args.email, command=settings.command)
    connection = wiring.get_purchase_settings().connection
    print(as_json(answer) if args.json else as_text(answer, connection=connection))
    return 1 if answer.user_id is None or answer.disagreements else 0


class BuyerLike(Protocol):
    @property
    def user_id(self) -> str: ...

    @property
    def app_metadata(self) -> Any: ...


class ReadOnlyDirectory(Protocol):
    def find_buyer(self, email: str) -> BuyerLike | None: ...

    def has_role(self, user_id: str, role_id: str) -> bool: ...


@dataclass(frozen=True)
class CourseAnswer:
    course: Course
    role_held: bool
    record: CourseRecord
    problem: str | None
    repair: str | None

    @property
    def access_from(self) -> PurchaseState | None:
        """The earliest active purchase: the one that grants access."""
        active = [purchase for purchase in self.record.effective_purchases if purchase.active]
        return min(active, key=lambda purchase: purchase.purchased_at or "") if active else None

    @property
    def removed_by(self) -> list[PurchaseState]:
        """Without an active purchase: the refunded, disputed or ended ones that took access away."""
        purchases = self.record.effective_purchases
        return [] if self.access_from else [purchase for purchase in purchases if not purchase.active]

    def to_json(self) -> dict[str, Any]:
        granting = self.access_from
        return {
            "course": self.course.slug,
            "role_id": self.course.role_id,
            "role_held": self.role_held,
            "record_says_role_assigned": self.record.role_assigned,
            "access_by_record": self.record.grants_access,
            "granted_by": granting.to_json() if granting else None,
            "removed_by": [purchase.to_json() for purchase in self.removed_by],
            "purchases": self.record.to_json()["purchases"],
            "agrees": self.problem is None,
            "problem": self.problem,
            "repair": self.repair,
        }


@dataclass(frozen=True)
class Explanation:
    email: str
    user_id: str | None
    courses: tuple[CourseAnswer, ...]

    @property
    def disagreements(self) -> int:
        return sum(1 for answer in self.courses if answer.problem is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "found": self.user_id is not None,
            "user_id": self.user_id,
            "courses": [answer.to_json() for answer in self.courses],
        }


def explain(directory: ReadOnlyDirectory, catalogue: CourseCatalogue, email: str, *, command: str) -> Explanation:
    """Read the buyer and each course's role; ``command`` prefixes the repair commands (``... -m ops --stack X``)."""
    normalised = email.strip().lower()
    buyer = directory.find_buyer(normalised)
    if buyer is None:
        return Explanation(email=normalised, user_id=None, courses=())
    answers = []
    for course in catalogue:
        record = CourseRecord.from_app_metadata(buyer.app_metadata, slug=course.slug, role_id=course.role_id)
        held = directory.has_role(buyer.user_id, course.role_id)
        problem, repair = judge(course, record, held, email=normalised, command=command)
        answers.append(CourseAnswer(course, held, record, problem, repair))
    return Explanation(email=normalised, user_id=buyer.user_id, courses=tuple(answers))


def judge(
    course: Course, record: CourseRecord, held: bool, *, email: str, command: str
) -> tuple[str | None, str | None]:
    """``(problem, repair)`` when the role and the purchase record disagree; ``(None, None)`` when they agree."""
    should = record.grants_access
    if held == should:
        return None, None
    if held and not record.purchases:
        return (
            "the role is held but no purchase is recorded (given by hand, or bought before the service ran)",
            f"if they bought it: {command} backfill --product <product id> --apply records the sale; "
            "if it was given by hand, nothing to do",
        )
    if held:
        return (
            "the role is held although no purchase grants access (a refund, dispute or end whose removal failed)",
            f"{_USERS_PAGE} > {email} > Roles: remove {course.role_id}; or resend the refund/end ping from Gumroad",
        )
    active = min((p for p in record.effective_purchases if p.active), key=lambda purchase: purchase.purchased_at or "")
    return (
        f"purchase {active.sale_id or active.purchase_id} grants access but the role is not held",
        _regrant(active, command),
    )


def _regrant(purchase: PurchaseState, command: str) -> str:
    """The backfill that re-runs exactly this purchase through the ping's path (it re-reads the role)."""
    sale_id = f"{purchase.sale_id}"
    sale = _as_option("--sale-id", sale_id) if sale_id.startswith("-") else sale_id
    dead_letter = f"or, if `{command} dlq show` lists it, {command} rerun {sale} --apply"
    day = (purchase.purchased_at or "")[:10]
    if purchase.product_id and looks_like_product_id(purchase.product_id) and day:
        following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        product = _as_option("--product", purchase.product_id)
        return f"{command} backfill {product} --after {day} --before {following} --apply; " + dead_letter
    return f"resend the sale's ping from Gumroad (Sales > the sale > Resend ping); {dead_letter}"


def _as_option(option: str, value: str) -> str:
    """``--option value``, or ``--option=value`` for a value that starts with '-' (a Gumroad id can): argparse would
    read it as an option."""
    return f"{option}={value}" if value.startswith("-") else f"{option} {value}"


def as_json(explanation: Explanation) -> str:
    return json.dumps(explanation.to_json(), indent=2, sort_keys=True)


def as_text(explanation: Explanation, *, connection: str) -> str:
    if explanation.user_id is None:
        return f"{explanation.email}: no Auth0 user with this address in the connection {connection}"
    lines = [f"{explanation.email}: Auth0 user {explanation.user_id}"]
    for answer in explanation.courses:
        lines += ["", *_course_lines(answer)]
    count = explanation.disagreements
    lines += ["", "role and record agree for every course" if not count else f"{count} course(s) disagree: see fix"]
    return "\n".join(lines)


def _course_lines(answer: CourseAnswer) -> list[str]:
    course = answer.course
    access = "HAS ACCESS" if answer.role_held else "no access"
    lines = [f"{course.slug} ({course.title}, role {course.role_id}): {access} (role {_held(answer.role_held)})"]
    granting = answer.access_from
    for purchase in answer.record.effective_purchases:
        lines.append("  " + _purchase_line(purchase, grants=purchase == granting))
    if not answer.record.purchases:
        lines.append("  no purchase recorded")
    elif granting is None:
        lines.append("  access removed by: " + ", ".join(_removal(purchase) for purchase in answer.removed_by))
    if answer.problem is not None:
        lines += [f"  DISAGREES: {answer.problem}", f"  fix: {answer.repair}"]
    return lines


def _held(held: bool) -> str:
    return "held" if held else "not held"


def _purchase_line(purchase: PurchaseState, *, grants: bool) -> str:
    sale_id = purchase.sale_id or purchase.purchase_id
    sale = (
        f"membership {purchase.subscription_id} (first charge {sale_id})"
        if purchase.subscription_id
        else (f"sale {sale_id}")
    )
    dates = [f"bought {purchase.purchased_at or 'at an unknown time'}"]
    if purchase.ended_at:
        dates.append(f"ended {purchase.ended_at}")
    if purchase.restarted_at:
        dates.append(f"restarted {purchase.restarted_at}")
    product = f", product {purchase.product_id}" if purchase.product_id else ""
    mark = "  <- grants access" if grants else ""
    return f"{sale}{product}: {purchase.status}, {', '.join(dates)}{mark}"


def _removal(purchase: PurchaseState) -> str:
    if purchase.status == "unconfirmed":
        return f"no sale seen for {purchase.sale_id or purchase.purchase_id} (a refund, dispute or restart came alone)"
    what = {"refunded": "refund", "disputed": "dispute (chargeback)", "ended": "end"}.get(purchase.status, "change")
    when = f" on {purchase.ended_at}" if purchase.status == "ended" and purchase.ended_at else ""
    return f"{what} of {purchase.sale_id or purchase.purchase_id}{when}"
