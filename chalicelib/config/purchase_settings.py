"""The purchase path's settings: the Auth0 tenant, the service's credentials, the queue, deadlines, pacing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from chalicelib.config.environment import (
    auth0_base_url,
    boolean,
    lambda_function_name,
    number,
    optional,
    required,
)
from chalicelib.errors import ConfigurationError

DEFAULT_CONNECTION = "Username-Password-Authentication"
DEFAULT_PING_DEADLINE_SECONDS = 4.0
# Gumroad gives up after 5 s; a ping handled inline must answer before that.
MAX_PING_DEADLINE_SECONDS = 4.5
# The worker's budget per message; its Lambda timeout must be longer (see .chalice/config.json).
DEFAULT_WORKER_DEADLINE_SECONDS = 20.0
DEFAULT_SECRET_TTL_SECONDS = 300.0
# The connections whose verified addresses may hold purchases besides the service's own database users:
# passwordless e-mail (a code proves the mailbox) and Google (it vouches for its addresses).
DEFAULT_TRUSTED_CONNECTIONS = ("email", "google-oauth2")
# A sign-in's budget: the post-login Action gives the service 5 s, and must hear back before that.
DEFAULT_SIGNIN_DEADLINE_SECONDS = 4.0
MAX_SIGNIN_DEADLINE_SECONDS = 4.5
QUEUE_URL = "PING_QUEUE_URL"
DEAD_LETTER_QUEUE_URL = "PING_DEAD_LETTER_QUEUE_URL"


@dataclass(frozen=True)
class Auth0Endpoint:
    """Where the Auth0 tenant (or its local stand-in) answers.

    ``base_url`` has a scheme, a host, an optional port and no trailing slash.
    """

    base_url: str

    @property
    def scheme(self) -> str:
        return self.base_url.split("://", 1)[0]

    @property
    def netloc(self) -> str:
        """Host and port, the ``domain`` that auth0-python's Authentication API wants."""
        return self.base_url.split("://", 1)[1]

    @property
    def management_base_url(self) -> str:
        return f"{self.base_url}/api/v2"

    @property
    def management_audience(self) -> str:
        return f"{self.base_url}/api/v2/"

    @property
    def default_issuer(self) -> str:
        return f"{self.base_url}/"


def parse_auth0_domain(value: str, *, variable: str = "AUTH0_DOMAIN") -> Auth0Endpoint:
    """The tenant's endpoint from a tenant domain (``example.us.auth0.com``) or a full base URL (see
    ``chalicelib.config.environment.auth0_base_url``)."""
    return Auth0Endpoint(base_url=auth0_base_url(value, variable=variable))


class OnboardingMode(Enum):
    """How a buyer the service just created gets into their new account."""

    PASSWORD_RESET_EMAIL = "password_reset_email"  # noqa: S105 - a mode, not a password
    VERIFICATION_EMAIL = "verification_email"
    NONE = "none"


@dataclass(frozen=True)
class EnvironmentCredentials:
    """Credentials given directly in the environment (local development only)."""

    client_id: str | None
    client_secret: str | None
    gumroad_ping_secret: str | None
    post_login_secret: str | None = None

    def __repr__(self) -> str:
        return "EnvironmentCredentials(<redacted>)"


@dataclass(frozen=True)
class PurchaseSettings:
    """Everything the Gumroad ping route needs."""

    auth0: Auth0Endpoint
    connection: str
    secret_id: str | None
    environment_credentials: EnvironmentCredentials
    seller_id: str | None
    provision_test_purchases: bool
    onboarding: OnboardingMode
    onboarding_client_id: str | None
    ping_deadline_seconds: float
    secret_ttl_seconds: float
    queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    management_rate: float | None = None
    management_burst: int = 1
    worker_deadline_seconds: float = DEFAULT_WORKER_DEADLINE_SECONDS
    trusted_connections: frozenset[str] = frozenset()
    """AUTH0_TRUSTED_CONNECTIONS: the connections whose verified addresses may hold purchases (the users the
    service creates in ``connection`` always may)."""
    signin_deadline_seconds: float = DEFAULT_SIGNIN_DEADLINE_SECONDS
    in_lambda: bool = False
    """Running in AWS Lambda (its runtime sets AWS_LAMBDA_FUNCTION_NAME; ``chalice local``, tests and ops do not)."""

    def __repr__(self) -> str:
        # Never let a stray log line print the environment credentials.
        return (
            f"PurchaseSettings(auth0={self.auth0.base_url!r}, connection={self.connection!r}, "
            f"secret_id={'set' if self.secret_id else 'unset'})"
        )


def load_purchase_settings(environ: Mapping[str, str], *, app_dir: str | os.PathLike[str]) -> PurchaseSettings:
    """Read and validate the ping route's settings; raise ConfigurationError naming the variable."""
    domain = required(environ, "AUTH0_DOMAIN")
    secret_id = optional(environ, "AUTH0_SECRET_ID")
    credentials = EnvironmentCredentials(
        client_id=optional(environ, "AUTH0_CLIENT_ID"),
        client_secret=optional(environ, "AUTH0_CLIENT_SECRET"),
        gumroad_ping_secret=optional(environ, "GUMROAD_PING_SECRET"),
        post_login_secret=optional(environ, "POST_LOGIN_SECRET"),
    )
    if secret_id is None:
        missing = [
            name
            for name, value in (
                ("AUTH0_CLIENT_ID", credentials.client_id),
                ("AUTH0_CLIENT_SECRET", credentials.client_secret),
                ("GUMROAD_PING_SECRET", credentials.gumroad_ping_secret),
            )
            if value is None
        ]
        if missing:
            raise ConfigurationError("AUTH0_SECRET_ID is unset, so these must be set instead: " + ", ".join(missing))
    return PurchaseSettings(
        auth0=parse_auth0_domain(domain),
        connection=optional(environ, "AUTH0_CONNECTION") or DEFAULT_CONNECTION,
        trusted_connections=_trusted_connections(environ),
        signin_deadline_seconds=number(
            environ,
            "SIGNIN_DEADLINE_SECONDS",
            default=DEFAULT_SIGNIN_DEADLINE_SECONDS,
            low=0.5,
            high=MAX_SIGNIN_DEADLINE_SECONDS,
        ),
        secret_id=secret_id,
        environment_credentials=credentials,
        seller_id=seller_id(environ),
        provision_test_purchases=provision_test_purchases(environ),
        onboarding=_onboarding(environ),
        onboarding_client_id=optional(environ, "AUTH0_ONBOARDING_CLIENT_ID"),
        ping_deadline_seconds=number(
            environ,
            "PING_DEADLINE_SECONDS",
            default=DEFAULT_PING_DEADLINE_SECONDS,
            low=0.5,
            high=MAX_PING_DEADLINE_SECONDS,
        ),
        secret_ttl_seconds=number(
            environ, "SECRET_TTL_SECONDS", default=DEFAULT_SECRET_TTL_SECONDS, low=0.0, high=86400.0
        ),
        management_rate=_rate(environ),
        management_burst=_burst(environ),
        queue_url=queue_url(environ, QUEUE_URL),
        dead_letter_queue_url=queue_url(environ, DEAD_LETTER_QUEUE_URL),
        in_lambda=lambda_function_name(environ) is not None,
        worker_deadline_seconds=number(
            environ, "WORKER_DEADLINE_SECONDS", default=DEFAULT_WORKER_DEADLINE_SECONDS, low=1.0, high=600.0
        ),
    )


def _optional_number(environ: Mapping[str, str], name: str, *, low: float, high: float) -> float | None:
    if optional(environ, name) is None:
        return None
    return number(environ, name, default=low, low=low, high=high)


def _rate(environ: Mapping[str, str]) -> float | None:
    """This process's share of the tenant's Management API rate (AUTH0_RATE_LIMIT_PER_SECOND).

    Auth0's limit is the tenant's, whatever the number of callers: processes that may call at the
    same moment (the worker's maximum concurrency, AUTH0_RATE_LIMIT_SHARED_BY) divide it.
    """
    rate = _optional_number(environ, "AUTH0_RATE_LIMIT_PER_SECOND", low=0.1, high=1000.0)
    return None if rate is None else rate / _shares(environ)


def _burst(environ: Mapping[str, str]) -> int:
    rate = _optional_number(environ, "AUTH0_RATE_LIMIT_PER_SECOND", low=0.1, high=1000.0)
    default = max(1, int(rate)) if rate is not None else 1
    burst = int(number(environ, "AUTH0_RATE_LIMIT_BURST", default=default, low=1, high=1000))
    return max(1, burst // _shares(environ))


def _shares(environ: Mapping[str, str]) -> int:
    return int(number(environ, "AUTH0_RATE_LIMIT_SHARED_BY", default=1, low=1, high=1000))


def seller_id(environ: Mapping[str, str]) -> str | None:
    """GUMROAD_SELLER_ID: the one Gumroad account whose pings are accepted (unset: any)."""
    return optional(environ, "GUMROAD_SELLER_ID")


def provision_test_purchases(environ: Mapping[str, str]) -> bool:
    """GUMROAD_PROVISION_TEST_PURCHASES: whether a seller's own test purchases grant access (default no)."""
    return boolean(environ, "GUMROAD_PROVISION_TEST_PURCHASES", default=False)


def queue_url(environ: Mapping[str, str], name: str) -> str | None:
    """The SQS FIFO queue URL in ``name`` (QUEUE_URL or DEAD_LETTER_QUEUE_URL), or None when it is unset."""
    url = optional(environ, name)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.path.endswith(".fifo"):
        raise ConfigurationError(f"{name} must be the URL of an SQS FIFO queue (ending in .fifo)")
    return url


def _trusted_connections(environ: Mapping[str, str]) -> frozenset[str]:
    """AUTH0_TRUSTED_CONNECTIONS, comma- or space-separated connection names (``connection``, the database
    connection, only when listed: its users the service did not create count only then)."""
    raw = optional(environ, "AUTH0_TRUSTED_CONNECTIONS")
    names = DEFAULT_TRUSTED_CONNECTIONS if raw is None else tuple(raw.replace(",", " ").split())
    for name in names:
        if not all(character.isalnum() or character in "-_" for character in name) or len(name) > 128:
            raise ConfigurationError("AUTH0_TRUSTED_CONNECTIONS must be connection names separated by commas")
    return frozenset(names)


def _onboarding(environ: Mapping[str, str]) -> OnboardingMode:
    raw = optional(environ, "BUYER_ONBOARDING")
    if raw is None:
        return OnboardingMode.PASSWORD_RESET_EMAIL
    try:
        return OnboardingMode(raw.lower())
    except ValueError as exc:
        choices = ", ".join(option.value for option in OnboardingMode)
        raise ConfigurationError(f"BUYER_ONBOARDING must be one of: {choices}") from exc
