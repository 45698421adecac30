"""The tenant's connections: the database one, Google and passwordless e-mail, as the Management API shows them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
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
    # Made through /api/v2/connections (``ops tenant``): its options and metadata as given, kept in the state file.
    created: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)

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
        if self.created:
            options = dict(self.options)
        elif self.is_database:
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
        if self.created:
            shown["metadata"] = dict(self.metadata)
        return shown

    def to_state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "strategy": self.strategy,
            "enabled_clients": list(self.enabled_clients),
            "options": dict(self.options),
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_state(cls, document: dict[str, Any]) -> Connection:
        """A connection made through the Management API, as the state file keeps it."""
        options = dict(document.get("options", {}))
        return cls(
            name=document["name"],
            strategy=document["strategy"],
            enabled_clients=tuple(document.get("enabled_clients", [])),
            disable_signup=bool(options.get("disable_signup", False)),
            created=True,
            options=options,
            metadata=dict(document.get("metadata", {})),
        )


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
