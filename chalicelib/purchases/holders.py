"""Who may hold a buyer's purchases among the Auth0 users of one address, and which one holds them.

Auth0 makes one user per connection (``auth0|`` database, ``google-oauth2|``, ``email|`` passwordless). One
of them is the buyer's **record holder**: its ``app_metadata`` keeps the ``gumroad_<slug>`` records and it
holds the course roles; the others are linked into it at their first sign-in (``purchases.sign_in``).

A user may hold or receive a purchase only if it is **eligible**:

* the database user the service created for a purchase (``purchase_holder.created_by_service``): nobody can
  sign in as it until the mailbox's owner sets its password through the e-mailed ticket; or
* a user of a connection the creator trusts (``AUTH0_TRUSTED_CONNECTIONS``, by default ``email`` and
  ``google-oauth2``) whose ``email_verified`` is true: the connection vouches for the mailbox (Auth0's code,
  Google's word).

A database user the service did not create is not eligible unless the creator lists the database connection:
its ``email_verified`` proves that someone opened a verification link, not who chose its password. Whoever
registered an address that is not theirs (public sign-up) keeps the password and the refresh tokens after the
owner clicks that link or resets the password (Auth0 ends sessions on a reset but keeps refresh tokens, and
revoking them needs an Enterprise-only endpoint), so such a user never receives a grant and is never linked.

Anything else (an unverified Google account, a self-registered database user) never receives a grant and never
becomes anyone's account. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.purchases.ports import Buyer
from chalicelib.purchases.records import RECORD_KEY_PREFIX, record_key

# The app_metadata key that marks the record holder. Not a record key: a slug has no underscore.
HOLDER_KEY = "purchase_holder"
HOLDER_VERSION = 1
# The key that marks a user keeping a purchase it may not receive, ungranted (``Fulfilment`` holds it there).
HELD_KEY = "purchase_held"


def holder_marker(*, created_by_service: bool) -> dict[str, Any]:
    return {"v": HOLDER_VERSION, "created_by_service": created_by_service}


def held_marker() -> dict[str, Any]:
    return {"v": HOLDER_VERSION}


def marker_of(user: Buyer) -> Mapping[str, Any] | None:
    marker = user.app_metadata.get(HOLDER_KEY)
    return marker if isinstance(marker, Mapping) else None


def record_keys(user: Buyer) -> list[str]:
    """The ``gumroad_<slug>`` keys of ``user``'s app_metadata that hold a purchase record."""
    return sorted(
        key
        for key, value in user.app_metadata.items()
        if key.startswith(RECORD_KEY_PREFIX)
        and key not in (HOLDER_KEY, HELD_KEY)
        and isinstance(value, Mapping)
        and "purchases" in value
    )


@dataclass(frozen=True)
class TrustPolicy:
    """The creator's rules: the service's database connection, and the connections whose verification counts."""

    database_connection: str
    trusted_connections: frozenset[str]

    def created_by_service(self, user: Buyer) -> bool:
        """A database user the service made: marked so, or made before the mark existed.

        Before the mark, the service wrote purchase records only on the database users it created (or found) for
        a purchase, and its buyers proved the mailbox with the set-password e-mail, which verifies the address;
        since, every user it writes records on is marked, as the holder or as held. So a verified, unmarked
        database user holding records is one of the service's buyers from before.
        """
        if user.connection != self.database_connection:
            return False
        marker = marker_of(user)
        if marker is not None:
            return marker.get("created_by_service") is True
        return HELD_KEY not in user.app_metadata and user.email_verified and bool(record_keys(user))

    def eligible(self, user: Buyer) -> bool:
        if self.created_by_service(user):
            return True
        return user.connection in self.trusted_connections and user.email_verified

    def why_not(self, user: Buyer) -> str | None:
        """Why ``user`` may not hold purchases (a stable code), or None when it may."""
        if self.eligible(user):
            return None
        if user.connection not in self.trusted_connections:
            return "connection_not_trusted"
        return "email_not_verified"

    def marks(self, user: Buyer) -> dict[str, Any]:
        """The marks a write of ``user``'s records carries: the holder's, or the held one's; {} when it has it."""
        if self.eligible(user):
            if marker_of(user) is not None:
                return {}
            return {HOLDER_KEY: holder_marker(created_by_service=self.created_by_service(user))}
        return {} if HELD_KEY in user.app_metadata else {HELD_KEY: held_marker()}

    def holder(self, users: Iterable[Buyer], *, course_slug: str | None = None) -> Buyer | None:
        """The eligible user that holds (or is to hold) the purchases of this address, or None.

        One that already holds this course's record, else any record, else the user the service created,
        else the oldest: so a later sale finds the same user, and Google first, bought after grants the
        Google user instead of creating a database user nobody can reach.
        """
        eligible = [user for user in users if self.eligible(user)]
        if not eligible:
            return None
        wanted = record_key(course_slug) if course_slug else None

        def rank(user: Buyer) -> tuple[bool, bool, bool, str, str]:
            keys = record_keys(user)
            return (
                wanted not in keys,
                not keys,
                not self.created_by_service(user),
                user.created_at or "9999",
                user.user_id,
            )

        return min(eligible, key=rank)

    def blocker(self, users: Iterable[Buyer], *, course_slug: str) -> Buyer | None:
        """With no eligible user: the one that must keep a purchase, ungranted, until its owner signs in another way.

        A user already holding this course's record (or any), else a database user of the service's
        connection: the address is taken there, so the service cannot create its own user for it. A sign-in
        with a code or a verified Google account proves the address and takes the purchase (``purchases.sign_in``).
        """
        wanted = record_key(course_slug)
        candidates = [user for user in users if not self.eligible(user)]
        holding = [user for user in candidates if wanted in record_keys(user)] or [
            user for user in candidates if record_keys(user)
        ]
        if holding:
            return min(holding, key=lambda user: (user.created_at or "9999", user.user_id))
        database = [user for user in candidates if user.connection == self.database_connection]
        return min(database, key=lambda user: (user.created_at or "9999", user.user_id)) if database else None
