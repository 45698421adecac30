"""The purchase path's ports: what its use cases need from the outside world, in their own terms.

The adapters implement them (``auth0_api``: Directory, Onboarding; ``aws``: EventQueue, DeadLetterSink,
RetryDelay, WatermarkStore; ``gumroad_api``: SalesSource, SubscriptionSource) and ``wiring`` plugs them in.
Nothing here does I/O, and nothing in ``purchases/`` imports an adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.purchases.queue import QueuedEvent

# --- Auth0: fulfilment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    """An Auth0 user of a buyer's address, as the directory reads it: its ``app_metadata`` (the purchase records)
    and what says whether it may hold them (``purchases.holders``).

    ``connection`` is the user's own identity's (the first of ``identities``); ``linked`` names the identities
    linked into it (``provider|user_id``). ``email_verified`` is Auth0's, re-read: never a caller's word.
    """

    user_id: str
    app_metadata: Mapping[str, Any]
    connection: str = ""
    email: str = ""
    email_verified: bool = False
    created_at: str = ""
    linked: tuple[str, ...] = ()

    @property
    def provider(self) -> str:
        return self.user_id.split("|", 1)[0]

    @property
    def local_id(self) -> str:
        return self.user_id.split("|", 1)[-1]


class Directory(Protocol):
    """What fulfilment needs from Auth0 (``chalicelib.auth0_api.directory.Auth0Directory`` in production).

    ``create_buyer`` raises ``BuyerAlreadyExists`` when the address is taken; every other failure is
    an ``UpstreamError``.
    """

    def find_users(self, email: str) -> Sequence[Buyer]:
        """Every user whose address is ``email`` (already normalised), of any connection: one request."""

    def create_buyer(
        self,
        *,
        email: str,
        name: str | None,
        app_metadata: Mapping[str, Any],
        send_verification_email: bool,
    ) -> Buyer: ...

    def assign_role(self, user_id: str, role_id: str) -> None: ...

    def remove_role(self, user_id: str, role_id: str) -> None: ...

    def has_role(self, user_id: str, role_id: str) -> bool: ...

    def save_records(self, user_id: str, documents: Mapping[str, Any]) -> None:
        """Write first-level ``app_metadata`` keys in one request (Auth0 merges them; ``None`` removes one)."""


class AccountDirectory(Directory, Protocol):
    """What a sign-in needs besides: the user by id, and linking."""

    def get_user(self, user_id: str) -> Buyer | None:
        """The user, re-read (None when Auth0 does not know it, or no longer: a secondary is no user)."""

    def link(self, primary_id: str, secondary: Buyer) -> None:
        """Link ``secondary`` into ``primary_id`` (``POST /api/v2/users/{id}/identities``)."""


class Onboarding(Protocol):
    """Gets a buyer the service just created into their account (``PasswordResetOnboarding``)."""

    def welcome(self, email: str) -> bool: ...


# --- the ping queue: dispatch, the worker, the reconciliation -------------------------------------


class EventQueue(Protocol):
    """The FIFO queue events are fulfilled from (``chalicelib.aws.sqs.PingQueue``)."""

    def enqueue(self, event: QueuedEvent, *, redriven: bool = False) -> str:
        """Queue ``event`` in its buyer's group, ``redriven`` when an operator sends it; the message id."""


class DeadLetterSink(Protocol):
    def send(self, *, body: str, message_id: str, reason: str, group: str | None = None) -> None: ...


class RetryDelay(Protocol):
    def delay(self, receipt_handle: str, seconds: int) -> None: ...


# --- Gumroad's API and the watermark: the reconciliation -------------------------------------------


class SalesSource(Protocol):
    def sales_pages(
        self, *, product_id: str, after: str | None = None, before: str | None = None
    ) -> Iterable[list[dict[str, Any]]]: ...


class Subscription(Protocol):
    """A resource subscription as Gumroad lists it: only where it posts matters here."""

    @property
    def post_url(self) -> str: ...


class SubscriptionSource(Protocol):
    def resource_subscriptions(
        self, resource_name: str, *, this_application_only: bool = False
    ) -> Sequence[Subscription]: ...


class WatermarkStore(Protocol):
    def read(self) -> str | None: ...

    def write(self, value: str) -> None: ...
