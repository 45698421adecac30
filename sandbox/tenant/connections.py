"""The tenant's connections: the database one, Google and passwordless e-mail, as the Management API shows them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

GOOGLE = "google-oauth2"
PASSWORDLESS_EMAIL = "email"


@dataclass
class Connection:
    """``strategy`` is Auth0's: ``auth0`` (database), ``google-oauth2``, ``email`` (passwordless)."""

    name: str
    strategy: str
    enabled_clients: tuple[str, ...]
    disable_signup: bool = False

    @property
    def id(self) -> str:
        # Stable across restarts, shaped like Auth0's ``con_`` + 16 characters.
        return "con_" + hashlib.sha256(self.name.encode("utf-8")).hexdigest()[:16]

    @property
    def is_database(self) -> bool:
        return self.strategy == "auth0"

    def to_auth0(self) -> dict[str, Any]:
        """As ``GET /api/v2/connections`` answers (``tests/fixtures/auth0/connections_database.json``)."""
        options: dict[str, Any] = {}
        if self.is_database:
            options = {
                "disable_signup": self.disable_signup,
                "brute_force_protection": True,
                "requires_username": False,
                "passwordPolicy": "low",
            }
        elif self.strategy == PASSWORDLESS_EMAIL:
            options = {"disable_signup": self.disable_signup, "brute_force_protection": True}
        else:
            options = {"email": True, "profile": True, "scope": ["email", "profile"]}
        shown: dict[str, Any] = {
            "id": self.id,
            "options": options,
            "strategy": self.strategy,
            "name": self.name,
            "is_domain_connection": False,
            "enabled_clients": list(self.enabled_clients),
        }
        if self.is_database:
            shown["realms"] = [self.name]
        return shown


def default_connections(
    *, database: str, disable_signup: bool, enabled_clients: tuple[str, ...]
) -> dict[str, Connection]:
    """The database connection (sign-ups off unless told), Google and passwordless e-mail, all enabled for the apps."""
    connections = (
        Connection(database, "auth0", enabled_clients, disable_signup=disable_signup),
        Connection(GOOGLE, GOOGLE, enabled_clients),
        Connection(PASSWORDLESS_EMAIL, PASSWORDLESS_EMAIL, enabled_clients),
    )
    return {connection.name: connection for connection in connections}
