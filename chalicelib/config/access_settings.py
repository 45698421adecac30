"""The private routes' settings: which tokens the verifier accepts (issuer, audience, keys, algorithms), and CORS."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from chalicelib.config.environment import api_audience, auth0_base_url, optional, require_https_url
from chalicelib.errors import ConfigurationError

DEFAULT_ALGORITHMS = ("RS256",)
DEFAULT_LEEWAY_SECONDS = 5
MAX_LEEWAY_SECONDS = 60

# Only asymmetric algorithms: a JWKS publishes public keys, and accepting HS* would let
# anyone who knows a public key forge tokens (the RS/HS confusion attack).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


# Plain classes, not dataclasses: a cold start builds them, and on Python 3.11 generating a frozen
# dataclass's methods costs about a millisecond per class (docs/internals.md, "Cold start"). Built once, never changed.
class AccessSettings:
    """What the token verifier needs to accept exactly the tokens Auth0 issued for this API."""

    __slots__ = ("algorithms", "audience", "issuer", "jwks_url", "leeway_seconds", "name_claim")

    def __init__(
        self,
        *,
        audience: str,
        issuer: str,
        jwks_url: str,
        algorithms: tuple[str, ...],
        leeway_seconds: int,
        name_claim: str | None,
    ) -> None:
        self.audience = audience
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.algorithms = algorithms
        self.leeway_seconds = leeway_seconds
        self.name_claim = name_claim


class CorsPolicy:
    """Which browser origins may call the private routes (empty: send no CORS headers)."""

    __slots__ = ("allowed_origins",)

    def __init__(self, *, allowed_origins: tuple[str, ...]) -> None:
        self.allowed_origins = allowed_origins

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
    audience = api_audience(environ)
    if audience is None:
        raise ConfigurationError(
            "AUTH0_AUDIENCE is not set: private routes answer 503 until it names the API identifier of the Auth0 API"
        )
    issuer = _issuer(environ)
    jwks_url = optional(environ, "AUTH0_JWKS_URL")
    if jwks_url is None:
        jwks_url = issuer.rstrip("/") + "/.well-known/jwks.json"
    require_https_url(jwks_url, "AUTH0_JWKS_URL")
    return AccessSettings(
        audience=audience,
        issuer=issuer,
        jwks_url=jwks_url,
        algorithms=_algorithms(environ),
        leeway_seconds=_leeway(environ),
        name_claim=optional(environ, "AUTH0_NAME_CLAIM"),
    )


def load_cors_policy(environ: Mapping[str, str]) -> CorsPolicy:
    """Read CORS_ALLOW_ORIGIN: ``*``, or one or more origins separated by commas."""
    raw = optional(environ, "CORS_ALLOW_ORIGIN")
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
    issuer = optional(environ, "AUTH0_ISSUER")
    if issuer is not None:
        require_https_url(issuer, "AUTH0_ISSUER")
        # Compared exactly with the token's iss: Auth0 writes it with a trailing slash.
        return issuer
    domain = optional(environ, "AUTH0_DOMAIN")
    if domain is None:
        raise ConfigurationError("AUTH0_ISSUER is not set and neither is AUTH0_DOMAIN to derive it from")
    # Auth0's issuer is its base URL with a trailing slash.
    return auth0_base_url(domain, variable="AUTH0_DOMAIN") + "/"


def _algorithms(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = optional(environ, "AUTH0_ALGORITHMS")
    if raw is None:
        return DEFAULT_ALGORITHMS
    names = tuple(dict.fromkeys(name for name in re.split(r"[\s,]+", raw) if name))
    rejected = [name for name in names if name not in ASYMMETRIC_ALGORITHMS]
    if rejected or not names:
        choices = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        raise ConfigurationError(f"AUTH0_ALGORITHMS accepts asymmetric algorithms only: {choices}")
    return names


def _leeway(environ: Mapping[str, str]) -> int:
    raw = optional(environ, "AUTH0_LEEWAY_SECONDS")
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
