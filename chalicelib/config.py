"""Settings read from the environment once, validated, with messages that name the variable."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from chalicelib.errors import ConfigurationError

DEFAULT_CONNECTION = "Username-Password-Authentication"
DEFAULT_COURSES_FILE = "chalicelib/courses.json"
DEFAULT_PING_DEADLINE_SECONDS = 4.0
# Gumroad gives up after 5 s; a ping handled inline must answer before that.
MAX_PING_DEADLINE_SECONDS = 4.5
# The worker's budget per message; its Lambda timeout must be longer (see .chalice/config.json).
DEFAULT_WORKER_DEADLINE_SECONDS = 20.0
DEFAULT_SECRET_TTL_SECONDS = 300.0

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Onboarding(Enum):
    """How a buyer the service just created gets into their new account."""

    PASSWORD_RESET_EMAIL = "password_reset_email"  # noqa: S105 - a mode, not a password
    VERIFICATION_EMAIL = "verification_email"
    NONE = "none"


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
    """Accept a tenant domain (``example.us.auth0.com``) or a full base URL.

    ``http://`` is allowed only for loopback hosts so that a local stand-in can
    be used; anything else would send the M2M secret in clear text.
    """
    raw = value.strip()
    if not raw:
        raise ConfigurationError(f"{variable} is empty; set it to your tenant domain, e.g. example.us.auth0.com")
    if "://" not in raw:
        if not _HOSTNAME.match(raw):
            raise ConfigurationError(
                f"{variable} must be a domain such as example.us.auth0.com or a base URL such as "
                "https://example.us.auth0.com"
            )
        return Auth0Endpoint(base_url=f"https://{raw.lower()}")
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http"):
        raise ConfigurationError(f"{variable} must use https:// (or http:// for a loopback host)")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{variable} must not contain credentials")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{variable} must be a bare origin without path, query or fragment")
    host = parts.hostname
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"{variable} has an invalid port") from exc
    if not host or not (_HOSTNAME.match(host) or _is_ip(host)):
        raise ConfigurationError(f"{variable} has no valid host")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"{variable} uses http:// with a non-loopback host; only 127.0.0.0/8, ::1 and localhost "
            "may be reached without TLS"
        )
    shown_host = f"[{host}]" if ":" in host else host
    # Auth0's issuer never carries a default port: keeping ":443" would make every token's iss mismatch.
    default_port = 443 if parts.scheme == "https" else 80
    netloc = f"{shown_host}:{port}" if port is not None and port != default_port else shown_host
    return Auth0Endpoint(base_url=f"{parts.scheme}://{netloc.lower()}")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class EnvironmentCredentials:
    """Credentials given directly in the environment (local development only)."""

    client_id: str | None
    client_secret: str | None
    gumroad_ping_secret: str | None

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
    courses_file: Path
    provision_test_purchases: bool
    onboarding: Onboarding
    onboarding_client_id: str | None
    ping_deadline_seconds: float
    secret_ttl_seconds: float
    queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    management_rate: float | None = None
    management_burst: int = 1
    worker_deadline_seconds: float = DEFAULT_WORKER_DEADLINE_SECONDS

    def __repr__(self) -> str:
        # Never let a stray log line print the environment credentials.
        return (
            f"PurchaseSettings(auth0={self.auth0.base_url!r}, connection={self.connection!r}, "
            f"secret_id={'set' if self.secret_id else 'unset'}, courses_file={str(self.courses_file)!r})"
        )


def load_purchase_settings(environ: Mapping[str, str], *, app_dir: Path) -> PurchaseSettings:
    """Read and validate the ping route's settings; raise ConfigurationError naming the variable."""
    domain = _required(environ, "AUTH0_DOMAIN")
    secret_id = _optional(environ, "AUTH0_SECRET_ID")
    credentials = EnvironmentCredentials(
        client_id=_optional(environ, "AUTH0_CLIENT_ID"),
        client_secret=_optional(environ, "AUTH0_CLIENT_SECRET"),
        gumroad_ping_secret=_optional(environ, "GUMROAD_PING_SECRET"),
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
        connection=_optional(environ, "AUTH0_CONNECTION") or DEFAULT_CONNECTION,
        secret_id=secret_id,
        environment_credentials=credentials,
        seller_id=_optional(environ, "GUMROAD_SELLER_ID"),
        courses_file=resolve_courses_file(environ, app_dir=app_dir),
        provision_test_purchases=_boolean(environ, "GUMROAD_PROVISION_TEST_PURCHASES", default=False),
        onboarding=_onboarding(environ),
        onboarding_client_id=_optional(environ, "AUTH0_ONBOARDING_CLIENT_ID"),
        ping_deadline_seconds=_number(
            environ,
            "PING_DEADLINE_SECONDS",
            default=DEFAULT_PING_DEADLINE_SECONDS,
            low=0.5,
            high=MAX_PING_DEADLINE_SECONDS,
        ),
        secret_ttl_seconds=_number(
            environ, "SECRET_TTL_SECONDS", default=DEFAULT_SECRET_TTL_SECONDS, low=0.0, high=86400.0
        ),
        management_rate=_rate(environ),
        management_burst=_burst(environ),
        queue_url=_queue_url(environ, "PING_QUEUE_URL"),
        dead_letter_queue_url=_queue_url(environ, "PING_DEAD_LETTER_QUEUE_URL"),
        worker_deadline_seconds=_number(
            environ, "WORKER_DEADLINE_SECONDS", default=DEFAULT_WORKER_DEADLINE_SECONDS, low=1.0, high=600.0
        ),
    )


def _optional_number(environ: Mapping[str, str], name: str, *, low: float, high: float) -> float | None:
    if _optional(environ, name) is None:
        return None
    return _number(environ, name, default=low, low=low, high=high)


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
    burst = int(_number(environ, "AUTH0_RATE_LIMIT_BURST", default=default, low=1, high=1000))
    return max(1, burst // _shares(environ))


def _shares(environ: Mapping[str, str]) -> int:
    return int(_number(environ, "AUTH0_RATE_LIMIT_SHARED_BY", default=1, low=1, high=1000))


def _queue_url(environ: Mapping[str, str], name: str) -> str | None:
    url = _optional(environ, name)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.path.endswith(".fifo"):
        raise ConfigurationError(f"{name} must be the URL of an SQS FIFO queue (ending in .fifo)")
    return url


def resolve_courses_file(environ: Mapping[str, str], *, app_dir: Path) -> Path:
    relative = _optional(environ, "COURSES_FILE") or DEFAULT_COURSES_FILE
    path = Path(relative)
    if path.is_absolute():
        raise ConfigurationError("COURSES_FILE must be relative to the app directory")
    resolved = (app_dir / path).resolve()
    if not resolved.is_relative_to(app_dir.resolve()):
        raise ConfigurationError("COURSES_FILE must stay inside the app directory (only it is deployed)")
    return app_dir / path


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _required(environ: Mapping[str, str], name: str) -> str:
    value = _optional(environ, name)
    if value is None:
        raise ConfigurationError(f"{name} is not set")
    return value


def _boolean(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false")


def _number(environ: Mapping[str, str], name: str, *, default: float, low: float, high: float) -> float:
    raw = _optional(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number") from exc
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low:g} and {high:g}")
    return value


def _onboarding(environ: Mapping[str, str]) -> Onboarding:
    raw = _optional(environ, "BUYER_ONBOARDING")
    if raw is None:
        return Onboarding.PASSWORD_RESET_EMAIL
    try:
        return Onboarding(raw.lower())
    except ValueError as exc:
        choices = ", ".join(option.value for option in Onboarding)
        raise ConfigurationError(f"BUYER_ONBOARDING must be one of: {choices}") from exc


@dataclass(frozen=True)
class ReconcileSettings:
    """The scheduled reconciliation's settings (see chalicelib/purchases/reconcile.py)."""

    watermark_parameter: str | None
    ping_url: str | None
    lookback_days: int
    overlap_minutes: int


def load_reconcile_settings(environ: Mapping[str, str]) -> ReconcileSettings:
    return ReconcileSettings(
        watermark_parameter=_optional(environ, "RECONCILE_WATERMARK_PARAMETER"),
        ping_url=_optional(environ, "GUMROAD_PING_URL"),
        lookback_days=int(_number(environ, "RECONCILE_LOOKBACK_DAYS", default=35, low=1, high=400)),
        overlap_minutes=int(_number(environ, "RECONCILE_OVERLAP_MINUTES", default=60, low=0, high=10080)),
    )
