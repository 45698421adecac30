"""Every setting of the service, read from the environment once and validated, with messages that name the variable.

Purchase path (``load_purchase_settings``), private routes (``load_access_settings``, ``load_cors_policy``),
``POST /login`` (``load_login_settings``) and the scheduled reconciliation (``load_reconcile_settings``).
"""

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
# Set by the Lambda runtime in every function; never by `chalice local`, the test client or ops.
LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class OnboardingMode(Enum):
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
    in_lambda: bool = False
    """Running in AWS Lambda (its runtime sets AWS_LAMBDA_FUNCTION_NAME; ``chalice local``, tests and ops do not)."""

    def __repr__(self) -> str:
        # Never let a stray log line print the environment credentials.
        return (
            f"PurchaseSettings(auth0={self.auth0.base_url!r}, connection={self.connection!r}, "
            f"secret_id={'set' if self.secret_id else 'unset'})"
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
        in_lambda=_optional(environ, LAMBDA_MARKER) is not None,
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


def _onboarding(environ: Mapping[str, str]) -> OnboardingMode:
    raw = _optional(environ, "BUYER_ONBOARDING")
    if raw is None:
        return OnboardingMode.PASSWORD_RESET_EMAIL
    try:
        return OnboardingMode(raw.lower())
    except ValueError as exc:
        choices = ", ".join(option.value for option in OnboardingMode)
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


# --- private routes: token verification and CORS ------------------------------------------------

DEFAULT_ALGORITHMS = ("RS256",)
DEFAULT_LEEWAY_SECONDS = 5
MAX_LEEWAY_SECONDS = 60

# Only asymmetric algorithms: a JWKS publishes public keys, and accepting HS* would let
# anyone who knows a public key forge tokens (the RS/HS confusion attack).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@dataclass(frozen=True)
class AccessSettings:
    """What the token verifier needs to accept exactly the tokens Auth0 issued for this API."""

    audience: str
    issuer: str
    jwks_url: str
    algorithms: tuple[str, ...]
    leeway_seconds: int
    name_claim: str | None


@dataclass(frozen=True)
class CorsPolicy:
    """Which browser origins may call the private routes (empty: send no CORS headers)."""

    allowed_origins: tuple[str, ...]

    @property
    def enabled(self) -> bool:
        return bool(self.allowed_origins)

    def allow_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for a request from ``origin``, if any."""
        if "*" in self.allowed_origins:
            return "*"
        if origin is not None and origin in self.allowed_origins:
            return origin
        return None


def load_access_settings(environ: Mapping[str, str]) -> AccessSettings:
    """Read and validate the verifier's settings.

    Parameters
    ----------
    environ
        The process environment (or any mapping standing in for it).

    Raises
    ------
    ConfigurationError
        With a message naming the variable that is missing or invalid.
    """
    audience = _optional(environ, "AUTH0_AUDIENCE")
    if audience is None:
        raise ConfigurationError(
            "AUTH0_AUDIENCE is not set: private routes answer 503 until it names the API identifier of the Auth0 API"
        )
    issuer = _issuer(environ)
    jwks_url = _optional(environ, "AUTH0_JWKS_URL")
    if jwks_url is None:
        jwks_url = issuer.rstrip("/") + "/.well-known/jwks.json"
    _require_https_url(jwks_url, "AUTH0_JWKS_URL")
    return AccessSettings(
        audience=audience,
        issuer=issuer,
        jwks_url=jwks_url,
        algorithms=_algorithms(environ),
        leeway_seconds=_leeway(environ),
        name_claim=_optional(environ, "AUTH0_NAME_CLAIM"),
    )


def load_cors_policy(environ: Mapping[str, str]) -> CorsPolicy:
    """Read CORS_ALLOW_ORIGIN: ``*``, or one or more origins separated by commas."""
    raw = _optional(environ, "CORS_ALLOW_ORIGIN")
    if raw is None:
        return CorsPolicy(allowed_origins=())
    origins = tuple(part.strip() for part in raw.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not _is_origin(origin):
            raise ConfigurationError(
                "CORS_ALLOW_ORIGIN must be * or origins such as https://app.example.com "
                "(scheme and host, no path or trailing slash), separated by commas"
            )
    return CorsPolicy(allowed_origins=origins)


def _issuer(environ: Mapping[str, str]) -> str:
    issuer = _optional(environ, "AUTH0_ISSUER")
    if issuer is not None:
        _require_https_url(issuer, "AUTH0_ISSUER")
        # Compared exactly with the token's iss: Auth0 writes it with a trailing slash.
        return issuer
    domain = _optional(environ, "AUTH0_DOMAIN")
    if domain is None:
        raise ConfigurationError("AUTH0_ISSUER is not set and neither is AUTH0_DOMAIN to derive it from")
    return parse_auth0_domain(domain, variable="AUTH0_DOMAIN").default_issuer


def _require_https_url(value: str, variable: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"{variable} must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{variable} must not contain credentials")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(f"{variable} may use http:// only for a loopback host")


def _algorithms(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = _optional(environ, "AUTH0_ALGORITHMS")
    if raw is None:
        return DEFAULT_ALGORITHMS
    names = tuple(dict.fromkeys(name for name in re.split(r"[\s,]+", raw) if name))
    rejected = [name for name in names if name not in ASYMMETRIC_ALGORITHMS]
    if rejected or not names:
        choices = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        raise ConfigurationError(f"AUTH0_ALGORITHMS accepts asymmetric algorithms only: {choices}")
    return names


def _leeway(environ: Mapping[str, str]) -> int:
    raw = _optional(environ, "AUTH0_LEEWAY_SECONDS")
    if raw is None:
        return DEFAULT_LEEWAY_SECONDS
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError("AUTH0_LEEWAY_SECONDS must be a whole number of seconds") from exc
    if not 0 <= value <= MAX_LEEWAY_SECONDS:
        raise ConfigurationError(f"AUTH0_LEEWAY_SECONDS must be between 0 and {MAX_LEEWAY_SECONDS}")
    return value


def _is_origin(value: str) -> bool:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    if parts.path or parts.query or parts.fragment or value.endswith("/"):
        return False
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return True


# --- POST /login ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginSettings:
    """``POST /login``: on when AUTH0_LOGIN_CLIENT_ID names the login application."""

    client_id: str
    audience: str
    explicit_client_secret: str | None
    """AUTH0_LOGIN_CLIENT_SECRET; else the secret's ``login_client_secret``."""

    def __repr__(self) -> str:
        return f"LoginSettings(client_id={self.client_id!r}, audience={self.audience!r}, secret=<redacted>)"


def load_login_settings(environ: Mapping[str, str]) -> LoginSettings | None:
    """The login route's settings, or None when it is off (AUTH0_LOGIN_CLIENT_ID unset)."""
    client_id = _optional(environ, "AUTH0_LOGIN_CLIENT_ID")
    if client_id is None:
        return None
    audience = _optional(environ, "AUTH0_AUDIENCE")
    if audience is None:
        raise ConfigurationError("AUTH0_AUDIENCE is not set (POST /login issues tokens for it)")
    return LoginSettings(
        client_id=client_id, audience=audience, explicit_client_secret=_optional(environ, "AUTH0_LOGIN_CLIENT_SECRET")
    )
