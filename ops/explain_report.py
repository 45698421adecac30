"""`ops explain`'s text: each user of the address, its sign-in facts, its courses and purchases, what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.purchases.ports import Buyer
    from chalicelib.purchases.records import PurchaseState
    from ops.explain import CourseAnswer, Explanation, UserAnswer


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
    lines.append("  " + _sign_in_facts(user))
    if user.linked:
        lines.append("  linked identities: " + ", ".join(user.linked))
    if not answer.holder and not answer.holds_anything and not any(course.problem for course in answer.courses):
        return [*lines, "  holds no purchase and no course role"]
    for course in answer.courses:
        lines += ["  " + line for line in _course_lines(course)]
    return lines


def _sign_in_facts(user: Buyer) -> str:
    """Whether the student ever chose a password (database users: Auth0's ``last_password_reset``, absent until a
    change-password ticket is used) and signed in (``last_login``, ``logins_count``)."""
    signed_in = (
        f"signed in {user.logins_count} time{'s' if user.logins_count != 1 else ''}, last {user.last_login}"
        if user.last_login
        else "never signed in"
    )
    if user.provider != "auth0":
        return signed_in
    if user.last_password_reset:
        return f"password chosen {user.last_password_reset}; {signed_in}"
    return f"password never chosen (the set-password e-mail was not used: `resend` sends it again); {signed_in}"


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
