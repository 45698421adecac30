"""What the Management API configured in the tenant: APIs, applications, client grants and connections.

Only what was created through ``/api/v2`` is kept here (and in the state file); the applications and the API
that ``serve`` is started with are its settings, not configuration, and are never listed in this document.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

_ALPHANUMERIC = string.ascii_letters + string.digits


def random_id(prefix: str, length: int) -> str:
    """``rol_…``, ``con_…``, or a bare client id: random letters and digits, as Auth0's ids."""
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def server_id(identifier: str) -> str:
    """A stable 24-hex id, like Auth0's resource server ids."""
    return hashlib.sha256(identifier.encode()).hexdigest()[:24]


@dataclass
class Configuration:
    """The tenant's configured resources, each in the shape Auth0's Management API answers it."""

    apis: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> resource server
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)  # client id -> application (with its secret)
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> client grant
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> connection (Connection.to_state)

    def api_by_identifier(self, identifier: str) -> dict[str, Any] | None:
        return next((api for api in self.apis.values() if api["identifier"] == identifier), None)

    def to_state(self) -> dict[str, Any]:
        return {"apis": self.apis, "clients": self.clients, "grants": self.grants, "connections": self.connections}

    @classmethod
    def from_state(cls, document: dict[str, Any] | None) -> Configuration:
        document = document or {}
        return cls(
            apis=dict(document.get("apis", {})),
            clients=dict(document.get("clients", {})),
            grants=dict(document.get("grants", {})),
            connections=dict(document.get("connections", {})),
        )
