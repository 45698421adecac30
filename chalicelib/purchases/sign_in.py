"""A sign-in joins the buyer's one account: the identity that signed in is linked into the user holding the purchases.

The post-login Action (``actions/post-login.js``) asks, through ``POST /auth0/post-login``, for every interactive
sign-in of a user that does not hold purchases itself. The service re-reads that user and every user of its
address from the Management API (never an address or a verified flag from the request), then:

* an identity that may not hold purchases (``purchases.holders``: an unverified address, or a database user the
  service did not create) gets nothing and changes nothing: ``unverified``;
* otherwise the address's record holder takes every purchase recorded on the other users of the address (the
  identity that signed in; a purchase held for an unverified address, proved now that the mailbox's owner signed
  in; a duplicate), assigning the roles they grant; users that may not hold purchases lose their roles;
* the identity that signed in, if it is not the holder, is linked into it (``linked``: the Action switches the
  login to the holder with ``api.authentication.setPrimaryUser``); if it is, and it just got roles, ``granted``.

A database user the service did not create is never eligible unless the creator trusts the database connection
(``purchases.holders``): its password, and the refresh tokens it minted, may be a squatter's.

Writes go holder first (roles, then records: the commit marker), the others after, the link last: an attempt cut
short is done again at the next sign-in, and a record's fields merge as a join, so nothing is granted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from chalicelib.catalogue import Course, CourseCatalogue
from chalicelib.deadlines import current_deadline
from chalicelib.errors import InvalidEmail
from chalicelib.purchases.buyer_email import normalise_email
from chalicelib.purchases.buyer_locks import BuyerLocks
from chalicelib.purchases.holders import TrustPolicy, record_keys
from chalicelib.purchases.outcomes import plan_change
from chalicelib.purchases.ports import AccountDirectory, Buyer
from chalicelib.purchases.records import CourseRecord, record_key

NONE = "none"
LINKED = "linked"
GRANTED = "granted"
UNVERIFIED = "unverified"


@dataclass(frozen=True)
class SignInAnswer:
    """What the Action is told (``result``, and ``primary_user_id`` when linked) and what was done, for the log."""

    result: str
    primary_user_id: str | None = None
    reason: str | None = None
    changes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"result": self.result}
        if self.primary_user_id is not None:
            body["primary_user_id"] = self.primary_user_id
        return body


@dataclass
class _Writes:
    """What bringing one user's roles and records in line takes, planned before anything is written."""

    assign: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    documents: dict[str, Any] = field(default_factory=dict)


class SignIns:
    """``locks``: the inline purchase path's per-address locks (the local stage), so a sign-in and a ping of one
    address never interleave in this process; deployed, pings are in the worker and the race is documented."""

    def __init__(
        self,
        *,
        catalogue: CourseCatalogue,
        directory: AccountDirectory,
        trust: TrustPolicy,
        locks: BuyerLocks | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._directory = directory
        self._trust = trust
        self._locks = locks

    def sign_in(self, user_id: str) -> SignInAnswer:
        user = self._directory.get_user(user_id)
        if user is None:
            return SignInAnswer(NONE, reason="unknown_user")
        why_not = self._trust.why_not(user)
        if why_not is not None:
            return SignInAnswer(UNVERIFIED, reason=why_not)
        try:
            address = normalise_email(user.email)
        except InvalidEmail as invalid:
            return SignInAnswer(NONE, reason=f"unusable_address_{invalid.reason}")
        lock: AbstractContextManager[None] = (
            self._locks.hold(address, deadline=current_deadline()) if self._locks is not None else nullcontext()
        )
        with lock:
            return self._join(user, address)

    def _join(self, user: Buyer, address: str) -> SignInAnswer:
        others = [other for other in self._directory.find_users(address) if other.user_id != user.user_id]
        account = [user, *others]
        # A user with linked identities is already someone's account: it stays the primary.
        holder = user if user.linked else self._trust.holder(account)
        assert holder is not None  # ``user`` itself is eligible
        # Every other record joins the holder's: the signing-in identity's, a purchase held for an unverified
        # address (proved now), a duplicate's (a Google account whose casing the sale's lookup missed).
        sources = [other for other in account if other is not holder and record_keys(other)]
        writes = self._merge(holder, sources)
        changes: list[str] = []
        self._write(holder, writes, changes)
        for other in sources:
            if other is not user and not self._trust.eligible(other):
                self._strip(other, changes)
        if holder is not user:
            self._directory.link(holder.user_id, user)
            changes.append("linked")
            return SignInAnswer(LINKED, primary_user_id=holder.user_id, changes=tuple(changes))
        return SignInAnswer(GRANTED if writes.assign else NONE, changes=tuple(changes))

    def _merge(self, holder: Buyer, sources: Sequence[Buyer]) -> _Writes:
        """The holder's records with every source's purchases joined in, and the roles they now grant."""
        writes = _Writes()
        for course in self._catalogue.courses:
            before = _record(holder, course)
            merged = before
            for source in sources:
                for purchase in _record(source, course).purchases:
                    merged = merged.with_purchase(purchase)
            plan = plan_change(before, merged, role_held=before.role_assigned)
            if before.role_assigned is None and not merged.purchases:
                continue  # nothing anywhere about this course
            if plan.role_change == "assign":
                writes.assign.append(course.role_id)
            elif plan.role_change == "remove":
                writes.remove.append(course.role_id)
            if plan.save_record:
                writes.documents[record_key(course.slug)] = plan.record.to_json()
        if writes.documents or record_keys(holder):
            writes.documents.update(self._trust.marks(holder))  # {} when it has its mark already
        return writes

    def _write(self, holder: Buyer, writes: _Writes, changes: list[str]) -> None:
        for role_id in writes.assign:
            self._directory.assign_role(holder.user_id, role_id)
            changes.append("role_assigned")
        for role_id in writes.remove:
            self._directory.remove_role(holder.user_id, role_id)
            changes.append("role_removed")
        if writes.documents:
            self._directory.save_records(holder.user_id, writes.documents)
            changes.append("record_saved")

    def _strip(self, other: Buyer, changes: list[str]) -> None:
        """A user that may not hold purchases keeps its records (history) but no role: the holder has them now."""
        documents: dict[str, Any] = {}
        for course in self._catalogue.courses:
            record = _record(other, course)
            if record.role_assigned is not False and (record.purchases or record.role_assigned):
                self._directory.remove_role(other.user_id, course.role_id)
                changes.append("role_removed_elsewhere")
                documents[record_key(course.slug)] = record.with_role(False).to_json()
        if documents:
            self._directory.save_records(other.user_id, {**documents, **self._trust.marks(other)})


def _record(user: Buyer, course: Course) -> CourseRecord:
    return CourseRecord.from_app_metadata(user.app_metadata, slug=course.slug, role_id=course.role_id)
