"""The purchase path's events: what a Gumroad ping (or a sale read back from the Sales API) says happened."""

from __future__ import annotations

from dataclasses import dataclass

# Where an event came from: Gumroad's ping, or the scheduled reconciliation reading the Sales API.
PING_ORIGIN = "ping"
RECONCILIATION_ORIGIN = "reconciliation"


@dataclass(frozen=True)
class ProductKeys:
    """Every way a ping names its product; ``product_id`` is the one that never changes."""

    product_id: str | None
    permalink: str | None = None
    short_product_id: str | None = None
    product_permalink: str | None = None

    @property
    def other_keys(self) -> tuple[str | None, ...]:
        """The keys that can change or be reused: matched only for catalogue entries without a product id."""
        return (self.permalink, self.short_product_id, self.product_permalink)


@dataclass(frozen=True)
class SaleEvent:
    """A ping with the sale payload: ``sale``, ``refund``, ``dispute``, ``dispute_won`` or a test."""

    resource_name: str | None  # None for the settings-page test ping
    sale_id: str
    seller_id: str | None
    product: ProductKeys
    email: str
    """The buyer's address, normalised; when ``email_problem`` is set, the raw text (never provisioned)."""
    full_name: str | None
    subscription_id: str | None
    sale_timestamp: str | None
    refunded: bool
    disputed: bool
    dispute_won: bool
    test: bool
    gift: bool
    recurring_charge: bool
    retry_count: int
    shadowed_keys: tuple[str, ...]
    email_problem: str | None = None
    """Why ``email`` is an address Auth0 can never hold (the event is then ignored for review)."""
    origin: str = PING_ORIGIN
    """``reconciliation`` when read from the Sales API: a revocation for a buyer Auth0 does not know is then
    final (there is no sale on its way), and a membership end says "ended by now", not when."""
    gifter_email: str | None = None
    """For a gift, the giver's address normalised (the ping's ``gifter_email``, the Sales API's); None when
    absent or not an address."""

    @property
    def event_name(self) -> str:
        return self.resource_name or "test"

    @property
    def self_gift(self) -> bool:
        """A gift whose giver is the giftee: Gumroad refuses a gift to oneself only when the two addresses
        are typed alike (``Purchase::CreateService#create_gift``), and lower-cases both afterwards."""
        return self.gift and self.email_problem is None and self.gifter_email == self.email

    @property
    def purchase_id(self) -> str:
        """The purchase this sale belongs to: the membership for renewals, else the sale."""
        return self.subscription_id or self.sale_id


@dataclass(frozen=True)
class SubscriptionEvent:
    """``cancellation``, ``subscription_ended``, ``subscription_restarted`` or ``subscription_updated``."""

    resource_name: str
    subscription_id: str
    product: ProductKeys
    email: str
    purchase_ids: tuple[str, ...]
    occurred_at: str | None  # cancelled_at / ended_at / restarted_at / effective_as_of
    retry_count: int
    email_problem: str | None = None
    origin: str = PING_ORIGIN

    @property
    def event_name(self) -> str:
        return self.resource_name


@dataclass(frozen=True)
class UnhandledEvent:
    """A well-formed ping for a resource this service does not act on."""

    resource_name: str
    retry_count: int

    @property
    def event_name(self) -> str:
        return self.resource_name


PingEvent = SaleEvent | SubscriptionEvent | UnhandledEvent
