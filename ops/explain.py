"""Explain: for one address, every Auth0 user and identity holding it, which one holds the purchases, and per course
whether that user has access, which purchase says so, whether Auth0 agrees, and what the student must do.

Read-only: one users-by-email lookup and one roles read per course per user, through the service's own
Auth0Directory. The purchase record is a user's ``app_metadata`` (chalicelib.purchases.records), the role is what
Auth0 enforces; who may hold purchases is the service's rule (chalicelib.purchases.holders). When role and record
disagree the answer names the command that repairs it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.catalogue import Course, CourseCatalogue, looks_like_product_id
from chalicelib.purchases.holders import HELD_KEY, TrustPolicy, record_keys
from chalicelib.purchases.ports import Buyer
from chalicelib.purchases.records import CourseRecord, PurchaseState

if TYPE_CHECKING:
    from ops.settings import Settings

_USERS_PAGE = "Auth0 Dashboard > User Management > Users"
# Reads for one address: a lookup and a roles read per course per user, each with the worker's kind of budget.
EXPLAIN_SECONDS = 60.0

EXPLAIN_DOC = """Who holds this address in Auth0, and why does the student have (or not have) each course? Read-only.

Every Auth0 user of the address (one per connection: a password, Google, an e-mail code) and the identities
linked into it, whether each address is verified, whether each user may hold purchases and which one holds
them (the record holder). For each catalogue course and user: whether Auth0 holds the course's role, the
purchases behind it (app_metadata) with their status and dates, which purchase grants access or which refund,
dispute or end removed it, and any disagreement between role and record with the command that repairs it.
Then what the student must do to get in. One users-by-email lookup and one roles read per course per user,
with the service's own M2M application. Exit code 0 when role and record agree everywhere, 1 when a course
disagrees or no user has the address.
"""


def add_explain(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain = commands.add_parser(
        "explain",
        help="every user of an address, who holds its purchases, each course's access and any disagreement",
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
        answer = explain(
            wiring.get_directory(),
            wiring.get_catalogue(),
            args.email,
            trust=wiring.get_trust_policy(),
            command=settings.command,
        )
    print(as_json(answer) if args.json else as_text(answer))
    return 1 if not answer.users or answer.disagreements else 0


class ReadOnlyDirectory(Protocol):
    def find_users(self, email: str) -> Sequence[Buyer]: ...

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
class UserAnswer:
    """One Auth0 user of the address: what it is, whether it may hold purchases, and its courses."""

    user: Buyer
    holder: bool
    why_not: str | None  # None: it may hold purchases (purchases.holders' codes otherwise)
    made_by_service: bool
    courses: tuple[CourseAnswer, ...]

    @property
    def holds_anything(self) -> bool:
        return bool(record_keys(self.user)) or any(answer.role_held for answer in self.courses)

    @property
    def held(self) -> bool:
        """A purchase kept here, ungranted, because this user may not hold it."""
        return self.why_not is not None and (HELD_KEY in self.user.app_metadata or bool(record_keys(self.user)))

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user.user_id,
            "connection": self.user.connection,
            "email": self.user.email,
            "email_verified": self.user.email_verified,
            "linked_identities": list(self.user.linked),
            "made_by_service": self.made_by_service,
            "may_hold_purchases": self.why_not is None,
            "why_not": self.why_not,
            "record_holder": self.holder,
            "purchase_held": self.held,
            "courses": [answer.to_json() for answer in self.courses],
        }


@dataclass(frozen=True)
class Explanation:
    email: str
    users: tuple[UserAnswer, ...]
    advice: tuple[str, ...]

    @property
    def holder(self) -> UserAnswer | None:
        return next((answer for answer in self.users if answer.holder), None)

    @property
    def disagreements(self) -> int:
        return sum(1 for user in self.users for answer in user.courses if answer.problem is not None)

    def to_json(self) -> dict[str, Any]:
        holder = self.holder
        return {
            "email": self.email,
            "found": bool(self.users),
            "user_id": holder.user.user_id if holder else None,  # the record holder
            "courses": [answer.to_json() for answer in holder.courses] if holder else [],
            "users": [user.to_json() for user in self.users],
            "advice": list(self.advice),
        }


def explain(
    directory: ReadOnlyDirectory, catalogue: CourseCatalogue, email: str, *, trust: TrustPolicy, command: str
) -> Explanation:
    """Read every user of the address and each course's role; ``command`` prefixes the repair commands."""
    normalised = email.strip().lower()
    users = list(directory.find_users(normalised))
    holder = trust.holder(users)
    answers = []
    for user in sorted(users, key=lambda user: (user is not holder, user.created_at, user.user_id)):
        why_not = trust.why_not(user)
        courses = []
        for course in catalogue:
            record = CourseRecord.from_app_metadata(user.app_metadata, slug=course.slug, role_id=course.role_id)
            held = directory.has_role(user.user_id, course.role_id)
            problem, repair = judge(course, record, held, email=normalised, command=command, may_hold=why_not is None)
            courses.append(CourseAnswer(course, held, record, problem, repair))
        made = trust.created_by_service(user)
        answers.append(UserAnswer(user, user is holder, why_not, made, tuple(courses)))
    return Explanation(normalised, tuple(answers), tuple(advice(normalised, answers, trust)))


def advice(email: str, users: Sequence[UserAnswer], trust: TrustPolicy) -> list[str]:
    """What the student must do to open their courses, in the words of the sign-in page."""
    if not users:
        return [
            f"No Auth0 user has {email}: nothing bought with it has reached Auth0 (see `dlq show`; `reconcile` "
            "re-reads Gumroad's sales), or the student bought with another address."
        ]
    holder = next((user for user in users if user.holder), None)
    lines = (
        [] if holder is None else [f"Every way in opens the courses of {holder.user.user_id}: {_ways(holder, trust)}."]
    )
    lines += [_user_advice(user, holder, trust) for user in users if not user.holder]
    if holder is None and not any(user.held for user in users):
        lines.append("Nothing bought with this address is recorded: a purchase makes the record holder.")
    return lines


def _ways(holder: UserAnswer, trust: TrustPolicy) -> str:
    ways = ["Email me a code (the code goes to this address)"] if "email" in trust.trusted_connections else []
    if "google-oauth2" in trust.trusted_connections:
        ways.append("Continue with Google, if Google has verified this address")
    if holder.made_by_service:
        ways.insert(
            0,
            "Sign in with the password they chose (Forgot password on the login page if it is lost)"
            if holder.user.email_verified
            else "Sign in with a password once they set it: the set-password e-mail went out at the purchase "
            "(Forgot password on the login page sends a new one)",
        )
    return "; or ".join(ways)


def _user_advice(user: UserAnswer, holder: UserAnswer | None, trust: TrustPolicy) -> str:
    user_id, connection = user.user.user_id, user.user.connection
    if user.why_not is None:
        return f"{user_id} joins {holder.user.user_id if holder else 'the record holder'} at its next sign-in."
    if connection == "google-oauth2":
        return (
            f"{user_id}: Google has not verified this address, so that Google sign-in opens nothing; sign in with "
            "Email me a code instead."
        )
    if connection == trust.database_connection:
        held = " A purchase is held there: signing in with Email me a code takes it." if user.held else ""
        return (
            f"{user_id}: a database user the service did not make (someone signed up with this address, or it was "
            f"made by hand): signing in with its password never opens courses.{held} If you made it yourself, list "
            "the database connection in AUTH0_TRUSTED_CONNECTIONS (with sign-ups off)."
        )
    return f"{user_id}: the connection {connection} is not in AUTH0_TRUSTED_CONNECTIONS, so its sign-ins open nothing."


def judge(
    course: Course, record: CourseRecord, held: bool, *, email: str, command: str, may_hold: bool = True
) -> tuple[str | None, str | None]:
    """``(problem, repair)`` when the role and the purchase record disagree; ``(None, None)`` when they agree."""
    if not may_hold:
        if not held:
            return None, None  # a held purchase waits, ungranted, as it should
        return (
            "the role is held by a user that may not hold purchases",
            f"{_USERS_PAGE} > {email} > this user > Roles: remove {course.role_id} (the owner's next verified "
            "sign-in takes it away too)",
        )
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


def as_text(explanation: Explanation) -> str:
    users = explanation.users
    if not users:
        return "\n".join(
            [f"{explanation.email}: no Auth0 user with this address, in any connection", "", *explanation.advice]
        )
    holder = explanation.holder
    held_by = f"the record holder is {holder.user.user_id}" if holder else "no user may hold its purchases"
    lines = [f"{explanation.email}: {len(users)} Auth0 user{'s' if len(users) > 1 else ''}; {held_by}"]
    for user in users:
        lines += ["", *_user_lines(user)]
    lines += ["", "What the student must do:", *(f"  - {line}" for line in explanation.advice)]
    count = explanation.disagreements
    lines += ["", "role and record agree for every course" if not count else f"{count} course(s) disagree: see fix"]
    return "\n".join(lines)


def _user_lines(answer: UserAnswer) -> list[str]:
    user = answer.user
    facts = ["RECORD HOLDER"] if answer.holder else []
    facts.append("made by the service" if answer.made_by_service else "not made by the service")
    facts.append("address verified" if user.email_verified else "address NOT verified")
    if answer.why_not is not None:
        facts.append(f"may not hold purchases ({_why(answer.why_not)})")
    if answer.held:
        facts.append("a purchase is held here, ungranted")
    lines = [f"Auth0 user {user.user_id} ({user.connection or 'no connection'}, {user.email}): " + ", ".join(facts)]
    if user.linked:
        lines.append("  linked identities: " + ", ".join(user.linked))
    if not answer.holder and not answer.holds_anything and not any(course.problem for course in answer.courses):
        return [*lines, "  holds no purchase and no course role"]
    for course in answer.courses:
        lines += ["  " + line for line in _course_lines(course)]
    return lines


def _why(code: str) -> str:
    return {
        "email_not_verified": "its address is not verified",
        "connection_not_trusted": "its connection is not trusted for users the service did not make",
    }.get(code, code)


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
