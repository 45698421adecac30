"""The sandbox's defaults: they match the ``local`` stage of ``.chalice/config.json``."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parent.parent

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_STATE_PATH = Path(".sandbox/state.json")
DEFAULT_CATALOGUE = REPOSITORY / "chalicelib" / "courses.local.json"
DEFAULT_API_AUDIENCE = "https://courses.local/api"
DEFAULT_CONNECTION = "Username-Password-Authentication"

DEFAULT_M2M_CLIENT_ID = "sandbox-m2m-client"
DEFAULT_M2M_CLIENT_SECRET = "sandbox-m2m-client-secret-not-a-real-secret"  # noqa: S105 - a public dev value
DEFAULT_LOGIN_CLIENT_ID = "sandbox-login-client"
DEFAULT_LOGIN_CLIENT_SECRET = "sandbox-login-client-secret-not-a-real-secret"  # noqa: S105 - a public dev value
# The single-page application: a public client (no secret) that signs people in with PKCE.
SPA_CLIENT_ID = "sandbox-spa-client"
DEFAULT_SPA_ORIGIN = "http://127.0.0.1:3000"

# What Auth0 grants a Management API client that the service's M2M application needs.
M2M_SCOPES = (
    "read:users",
    "update:users",
    "create:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
)
TOKEN_LIFETIME_SECONDS = 86_400  # Auth0's default for M2M and API access tokens
ID_TOKEN_LIFETIME_SECONDS = 36_000
# Browser sign-in (Auth0's defaults unless said otherwise).
LOGIN_TRANSACTION_SECONDS = 900  # how long a login page stays usable
AUTHORIZATION_CODE_SECONDS = 300  # single use; RFC 6749 recommends at most 10 minutes
SESSION_IDLE_SECONDS = 259_200  # Auth0 "Idle Session Lifetime": 3 days
SESSION_MAX_SECONDS = 604_800  # Auth0 "Maximum Session Lifetime": 7 days
REFRESH_TOKEN_IDLE_SECONDS = 1_296_000  # rotating refresh tokens: 15 days inactivity
REFRESH_TOKEN_MAX_SECONDS = 2_592_000  # and 30 days absolute
# auth0-spa-js treats a cached access token as expired 60 s before its ``exp`` (CacheManager.get
# is called with 60), so user tokens must live longer than that or every call refreshes. ``make run``
# issues 90 s tokens: used for 30 s, then refreshed, so a refund shows in the SPA within ~30 s.
SPA_EXPIRY_LEEWAY_SECONDS = 60
LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS = 90
MAX_FAILED_LOGINS = 10  # Auth0's brute-force protection default threshold
PASSWORD_GRANT = "http://auth0.com/oauth/grant-type/password-realm"  # noqa: S105 - a grant type name
CLIENT_CREDENTIALS_GRANT = "client_credentials"
AUTHORIZATION_CODE_GRANT = "authorization_code"
REFRESH_TOKEN_GRANT = "refresh_token"  # noqa: S105 - a grant type name


@dataclass(frozen=True)
class Client:
    """An Auth0 application registered in the sandbox tenant.

    A public client (``client_secret`` None, Auth0's "Single Page Application") proves nothing
    at the token endpoint but its PKCE verifier; its URLs are compared exactly, as Auth0 does.
    """

    client_id: str
    client_secret: str | None
    grant_types: tuple[str, ...]
    callbacks: tuple[str, ...] = ()
    logout_urls: tuple[str, ...] = ()
    web_origins: tuple[str, ...] = ()

    @property
    def is_public(self) -> bool:
        return self.client_secret is None


def spa_origin(url: str) -> str:
    """``scheme://host[:port]`` of an SPA's origin; a path, query or credentials are a ValueError."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an SPA origin is http(s)://host[:port], not {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"an SPA origin has no path, query or credentials: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def spa_client(origins: Iterable[str]) -> Client:
    """The SPA application: its origins are its callback, logout and web-origin (CORS) URLs."""
    allowed = tuple(dict.fromkeys(spa_origin(origin) for origin in origins))
    if not allowed:
        raise ValueError("the SPA application needs at least one origin")
    return Client(
        SPA_CLIENT_ID,
        None,
        (AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT),
        callbacks=allowed,
        logout_urls=allowed,
        web_origins=allowed,
    )


def is_loopback_host(host: str) -> bool:
    """Only loopback hosts: the sandbox must never be reachable from another machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url_for(host: str, port: int) -> str:
    """``http://host:port`` with IPv6 hosts in brackets and no trailing slash."""
    bare = host.strip("[]")
    shown = f"[{bare}]" if ":" in bare else bare
    return f"http://{shown}:{port}"


@dataclass(frozen=True)
class Site:
    """Where the tenant is served: its issuer and audiences follow from the base URL."""

    base_url: str
    api_audience: str

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/"

    @property
    def management_audience(self) -> str:
        return f"{self.base_url}/api/v2/"
