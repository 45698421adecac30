"""An in-memory Auth0 tenant behind the purchase path's ports: several users per address, linking, a call log.

It keeps Auth0's rules that the sign-in design relies on: users-by-email is exact and case-sensitive and finds
primary users only; a linked secondary is no user any more (``get_user`` answers None), its metadata and roles
are discarded, and it shows in the primary's ``linked``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import BuyerAlreadyExists
from chalicelib.purchases.holders import HOLDER_KEY, holder_marker
from chalicelib.purchases.ports import Buyer

DATABASE = "Username-Password-Authentication"


@dataclass
class FakeUser:
    user_id: str
    email: str
    connection: str
    email_verified: bool
    created_at: str
    app_metadata: dict[str, Any] = field(default_factory=dict)
    roles: set[str] = field(default_factory=set)
    linked: list[FakeUser] = field(default_factory=list)

    def as_buyer(self) -> Buyer:
        return Buyer(
            user_id=self.user_id,
            app_metadata=copy.deepcopy(self.app_metadata),
            connection=self.connection,
            email=self.email,
            email_verified=self.email_verified,
            created_at=self.created_at,
            linked=tuple(identity.user_id for identity in self.linked),
        )


@dataclass
class AccountTenant:
    """Implements ``Directory`` and ``AccountDirectory``; ``failures`` maps an operation to errors to raise."""

    users: dict[str, FakeUser] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    _serial: int = 0

    # --- seeding ----------------------------------------------------------------------------------

    def add(
        self,
        email: str,
        connection: str = DATABASE,
        *,
        verified: bool = False,
        service_made: bool = False,
        roles: set[str] | None = None,
        app_metadata: dict[str, Any] | None = None,
    ) -> FakeUser:
        self._serial += 1
        provider = {DATABASE: "auth0"}.get(connection, connection)
        user = FakeUser(
            user_id=f"{provider}|{self._serial:024d}",
            email=email,
            connection=connection,
            email_verified=verified,
            created_at=f"2026-01-{self._serial:02d}T00:00:00+00:00",
            app_metadata=copy.deepcopy(app_metadata or {}),
            roles=set(roles or ()),
        )
        if service_made:
            user.app_metadata[HOLDER_KEY] = holder_marker(created_by_service=True)
        self.users[user.user_id] = user
        return user

    # --- the ports --------------------------------------------------------------------------------

    def find_users(self, email: str) -> list[Buyer]:
        self._record("find_users", email)
        return [user.as_buyer() for user in self.users.values() if user.email == email]

    def get_user(self, user_id: str) -> Buyer | None:
        self._record("get_user", user_id)
        user = self.users.get(user_id)
        return None if user is None else user.as_buyer()

    def create_buyer(
        self, *, email: str, name: str | None, app_metadata: Mapping[str, Any], send_verification_email: bool
    ) -> Buyer:
        self._record("create_buyer", email)
        if any(user.email == email and user.connection == DATABASE for user in self.users.values()):
            raise BuyerAlreadyExists
        user = self.add(email, app_metadata=dict(app_metadata))
        return user.as_buyer()

    def assign_role(self, user_id: str, role_id: str) -> None:
        self._record("assign_role", user_id, role_id)
        self.users[user_id].roles.add(role_id)

    def remove_role(self, user_id: str, role_id: str) -> None:
        self._record("remove_role", user_id, role_id)
        self.users[user_id].roles.discard(role_id)

    def has_role(self, user_id: str, role_id: str) -> bool:
        self._record("has_role", user_id, role_id)
        return role_id in self.users[user_id].roles

    def save_records(self, user_id: str, documents: Mapping[str, Any]) -> None:
        self._record("save_records", user_id, *documents)
        metadata = self.users[user_id].app_metadata
        for key, document in documents.items():
            if document is None:
                metadata.pop(key, None)
            else:
                metadata[key] = copy.deepcopy(document)

    def link(self, primary_id: str, secondary: Buyer) -> None:
        self._record("link", primary_id, secondary.user_id)
        moved = self.users.pop(secondary.user_id)
        moved.app_metadata, moved.roles = {}, set()
        self.users[primary_id].linked.append(moved)

    # --- reading it back --------------------------------------------------------------------------

    @property
    def operations(self) -> list[str]:
        return [call[0] for call in self.calls]

    def _record(self, operation: str, *arguments: str) -> None:
        self.calls.append((operation, *arguments))
        pending = self.failures.get(operation)
        if pending:
            raise pending.pop(0)
