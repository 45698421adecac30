"""The tenant's applications: the M2M, login and check clients, and the single-page application."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sandbox.defaults import AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT, SPA_CLIENT_ID


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
