"""``POST /login``'s port: a user's password credentials, exchanged for an access token to this API.

``chalicelib.auth0_api.password_login.PasswordLogin`` implements it with Auth0's password-realm grant;
``chalicelib.web.login`` reads the credentials out of the request body and answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class PasswordCredentials:
    """A user's username and password, as ``POST /login`` received them (never the service's own secrets)."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"PasswordCredentials(username={self.username!r}, password=<redacted>)"


class PasswordGrant(Protocol):
    def login(self, credentials: PasswordCredentials, *, client_ip: str | None) -> dict[str, Any]:
        """The token answer (``access_token``, ``token_type``, ``expires_in``, ``scope``) for these credentials."""
