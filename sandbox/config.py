"""The sandbox's defaults: they match the ``local`` stage of ``.chalice/config.json``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

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
MAX_FAILED_LOGINS = 10  # Auth0's brute-force protection default threshold
PASSWORD_GRANT = "http://auth0.com/oauth/grant-type/password-realm"  # noqa: S105 - a grant type name
CLIENT_CREDENTIALS_GRANT = "client_credentials"


@dataclass(frozen=True)
class Client:
    """An Auth0 application registered in the sandbox tenant."""

    client_id: str
    client_secret: str
    grant_types: tuple[str, ...]


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
