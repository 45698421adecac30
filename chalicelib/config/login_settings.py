"""``POST /login``'s settings: on when AUTH0_LOGIN_CLIENT_ID names the login application."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.config.environment import api_audience, optional
from chalicelib.errors import ConfigurationError


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
    client_id = optional(environ, "AUTH0_LOGIN_CLIENT_ID")
    if client_id is None:
        return None
    audience = api_audience(environ)
    if audience is None:
        raise ConfigurationError("AUTH0_AUDIENCE is not set (POST /login issues tokens for it)")
    return LoginSettings(
        client_id=client_id, audience=audience, explicit_client_secret=optional(environ, "AUTH0_LOGIN_CLIENT_SECRET")
    )
