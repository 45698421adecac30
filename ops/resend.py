"""`ops resend EMAIL`: the set-password e-mail again, for a buyer who paid but cannot get in (dry run unless --apply).

The e-mail goes out the way the service sends it after a sale (``chalicelib.auth0_api.onboarding``: Auth0's
``/dbconnections/change_password`` for the service's connection and onboarding application), so the buyer gets the
same link, from the same tenant, to the same page. Before anything is sent the address is looked up as ``explain``
does: an address with no database user in the service's connection, or one with no purchase recorded, gets no e-mail
and a clear answer instead.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chalicelib.purchases.records import CourseRecord

if TYPE_CHECKING:
    from chalicelib.catalogue import CourseCatalogue
    from chalicelib.purchases.ports import Buyer
    from ops.settings import Settings

# One lookup and the e-mail request, each with the worker's kind of budget.
RESEND_SECONDS = 30.0

RESEND_DOC = """Send the set-password e-mail again (Auth0's change-password e-mail), as the service sends it after a
sale. Dry run unless --apply.

The address must be a database user of the service's connection with a purchase recorded: an
address with no such user (the sale never reached the service, or they signed up another way) or
with no purchase gets no e-mail, and the answer says what to check. Exit code 0 when the e-mail was
sent (or would be), 1 when the address has no database user or is not a buyer, 2 when Auth0
refused or could not be reached.
"""


def add_resend(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resend = commands.add_parser(
        "resend",
        help="send a buyer the set-password e-mail again (dry run unless --apply)",
        description=RESEND_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    resend.add_argument("email", help="the buyer's address (as on the Gumroad purchase)")
    resend.add_argument("--apply", action="store_true", help="send the e-mail (default: say what would be sent)")
    resend.set_defaults(run=run_resend)


class UsersByEmail(Protocol):
    def find_users(self, email: str) -> Sequence[Buyer]: ...


@dataclass(frozen=True)
class Recipient:
    """Who would get the e-mail, or why nobody would."""

    email: str
    user_id: str | None  # the database user of the service's connection
    others: tuple[str, ...]  # the address's other users (Google, e-mail codes), as "user_id (connection)"
    courses: tuple[str, ...]  # slugs with a purchase recorded on any user of the address
    with_access: tuple[str, ...]  # of those, the slugs a purchase grants access to now

    @property
    def refusal(self) -> str | None:
        if self.user_id is None:
            return "no database user with this address"
        if not self.courses:
            return f"Auth0 user {self.user_id} has no purchase recorded: not a buyer"
        return None


def recipient(directory: UsersByEmail, catalogue: CourseCatalogue, email: str, *, connection: str) -> Recipient:
    """Look the address up as the service does: every user of the address (one request), the database user of the
    service's connection among them, and the purchases recorded on any of them."""
    normalised = email.strip().lower()
    users = directory.find_users(normalised)
    database = next((user for user in users if user.connection == connection), None)
    others = tuple(f"{user.user_id} ({user.connection or 'no connection'})" for user in users if user is not database)
    records = [
        CourseRecord.from_app_metadata(user.app_metadata, slug=course.slug, role_id=course.role_id)
        for user in users
        for course in catalogue
    ]
    bought = tuple(dict.fromkeys(record.slug for record in records if record.purchases))
    granted = tuple(dict.fromkeys(record.slug for record in records if record.grants_access))
    return Recipient(normalised, database.user_id if database else None, others, bought, granted)


def run_resend(args: argparse.Namespace, settings: Settings) -> int:
    from chalicelib import wiring
    from chalicelib.deadlines import Deadline, upstream_scope

    settings.require_auth0()
    connection = wiring.get_purchase_settings().connection
    with upstream_scope(Deadline.after(RESEND_SECONDS)):
        found = recipient(wiring.get_directory(), wiring.get_catalogue(), args.email, connection=connection)
        refusal = found.refusal
        if refusal is not None:
            print(f"{found.email}: {refusal} in the connection {connection}; no e-mail sent")
            print(_what_to_check(found, settings.command, queued=settings.work_queue_url() is not None))
            return 1
        print(_describe(found, connection))
        if not args.apply:
            print("dry run: nothing sent; add --apply to send it")
            return 0
        wiring.get_password_reset_onboarding().send(found.email)
    print(f"sent: Auth0 accepted the request; {found.email} gets an e-mail with a link to choose a password")
    return 0


def _describe(found: Recipient, connection: str) -> str:
    access = ", ".join(found.with_access) if found.with_access else "none now (refunded, disputed or ended)"
    return (
        f"{found.email}: Auth0 user {found.user_id} in the connection {connection}; "
        f"bought {', '.join(found.courses)}; access: {access}\n"
        "the set-password e-mail (Auth0's change-password e-mail) goes to this address"
    )


def _what_to_check(found: Recipient, command: str, *, queued: bool) -> str:
    if found.user_id is None:
        others = f"its other users sign in without a password: {', '.join(found.others)}; " if found.others else ""
        # Without a work queue (the local stage) a ping is processed as it arrives: a failure is in the service's log.
        reached = f"{command} dlq show" if queued else "the service's log"
        return (
            f"{others}check: the address on the Gumroad sale (a typo, or another address); whether the sale reached "
            f"the service ({reached}); then {command} explain {found.email}"
        )
    return f"check: {command} explain {found.email} (a role given by hand, or a sale the service never saw)"
