"""Client grants: which applications may get a Management API token, and with which scopes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.tenant.configuration import Configuration


@dataclass(frozen=True)
class ClientGrant:
    """An application's access to the Management API, with the scopes it may ask for."""

    client_id: str
    scopes: tuple[str, ...]

    @property
    def id(self) -> str:
        return "cgr_" + hashlib.sha256(self.client_id.encode()).hexdigest()[:16]

    def to_auth0(self, audience: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "audience": audience,
            "scope": list(self.scopes),
            "subject_type": "client",
        }


class ClientGrants:
    """Which applications may get a Management API token (``client_credentials``), and with which scopes.

    The grants the sandbox is started with, then those created through ``/api/v2/client-grants`` (kept in
    the tenant's ``configuration``, each with its audience).
    """

    def __init__(self, grants: Mapping[str, tuple[str, ...]], configuration: Configuration | None = None) -> None:
        self._grants = [ClientGrant(client_id, tuple(scopes)) for client_id, scopes in grants.items()]
        self._configuration = configuration or Configuration()

    @property
    def created(self) -> dict[str, dict[str, Any]]:
        return self._configuration.grants

    def scopes_of(self, client_id: str, audience: str | None = None) -> tuple[str, ...] | None:
        """The scopes granted to ``client_id``; None when it has no grant for the Management API (``audience``)."""
        own = next((grant.scopes for grant in self._grants if grant.client_id == client_id), None)
        if own is not None:
            return own
        created = (grant for grant in self.created.values() if grant["client_id"] == client_id)
        return next((tuple(grant["scope"]) for grant in created if grant["audience"] == audience), None)

    def all(self) -> list[ClientGrant]:
        return list(self._grants)

    def documents(self, management_audience: str) -> list[dict[str, Any]]:
        """Every grant in Auth0's shape."""
        return [grant.to_auth0(management_audience) for grant in self._grants] + list(self.created.values())

    def all_scopes(self) -> list[str]:
        return list(dict.fromkeys(scope for grant in self._grants for scope in grant.scopes))
