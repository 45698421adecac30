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
    """A buyer as the directory knows them: their id and the ``app_metadata`` holding their records."""

    user_id: str
    app_metadata: Mapping[str, Any]


class Directory(Protocol):
    """What fulfilment needs from Auth0 (``chalicelib.auth0_api.directory.Auth0Directory`` in production).

    ``create_buyer`` raises ``BuyerAlreadyExists`` when the address is taken; every other failure is
    an ``UpstreamError``.
    """

    def find_buyer(self, email: str) -> Buyer | None: ...

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

    def save_record(self, user_id: str, key: str, document: Mapping[str, Any]) -> None: ...


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
