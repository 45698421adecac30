"""The tenant: users, roles, passwords, the outbox and login attempts, kept in memory and in the state file."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.errors import (
    ManagementError,
    payload_error,
    role_not_found,
    user_exists,
    user_not_found,
    weak_password,
)
from sandbox.tenant import identities
from sandbox.tenant.actions import Actions
from sandbox.tenant.configuration import Configuration
from sandbox.tenant.connections import Connection, default_connections
from sandbox.tenant.identities import Identity
from sandbox.tenant.keys import SigningKey
from sandbox.tenant.login_attempts import LoginAttempts
from sandbox.tenant.outbox import Outbox, invalid_ticket
from sandbox.tenant.password_sign_in import PasswordSignIn
from sandbox.tenant.passwordless import PasswordlessCodes
from sandbox.tenant.passwords import hash_password, is_strong_enough
from sandbox.tenant.roles import Role
from sandbox.tenant.sign_in_methods import SignInMethods
from sandbox.tenant.sign_ins import SignInStore
from sandbox.tenant.state_file import StateFile, StateFileError
from sandbox.tenant.users import NewUser, UserRecord, merged_metadata, timestamp


class Tenant:
    """Everything a tenant remembers; every change is saved before the answer goes out.

    One re-entrant lock (``lock``) guards the data; slow password hashing happens outside it, after the
    sign-in attempt it belongs to was reserved under it (``passwords``, ``sandbox.tenant.password_sign_in``).
    """

    def __init__(
        self,
        *,
        store: StateFile,
        connection: str,
        roles: Iterable[Role] | None = None,
        max_failed_logins: int = 10,
        clock: Callable[[], float] = time.time,
        read_only: bool = False,
        disable_signup: bool = True,
        enabled_clients: tuple[str, ...] = (),
    ) -> None:
        # A read-only tenant (``python -m sandbox token``) never writes under a running server.
        self._read_only = read_only
        self.store = store
        self.connection = connection
        self._clock = clock
        self._lock = threading.RLock()
        self.users: dict[str, UserRecord] = {}
        self.roles: dict[str, Role] = {}
        self.outbox = Outbox(clock=clock)
        self.login_attempts = LoginAttempts(max_failures=max_failed_logins, clock=clock)
        self.passwords = PasswordSignIn(self, clock=clock)
        self.methods = SignInMethods(self)  # Google, passwordless e-mail, database sign-up
        self.actions = Actions()  # deployed Actions and their bindings: seeded at start, never in the state file
        self.served_at: dict[str, str] = {}
        self.configuration = Configuration()  # what /api/v2 created: APIs, applications, grants, connections
        # Browser sessions, codes and refresh tokens: in memory only (see sandbox/tenant/sign_ins.py).
        self.sign_ins = SignInStore(clock=clock)
        self.codes = PasswordlessCodes(clock=clock)  # passwordless e-mail codes: memory only, like sign-ins
        self.connections = default_connections(
            database=connection, disable_signup=disable_signup, enabled_clients=enabled_clients
        )
        document = store.load()
        key = self._restore(document) if document is not None else None
        self.signing_key = key or SigningKey.generate()
        for role in roles or ():
            self.roles[role.id] = role
        self.save()

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    # --- persistence ------------------------------------------------------------------------------

    @contextmanager
    def changing(self) -> Iterator[None]:
        """Hold the lock for a change and save it afterwards."""
        with self._lock:
            yield
            self.save()

    def save(self) -> None:
        if self._read_only:
            return
        with self._lock:
            self.store.save(self._document())

    def _document(self) -> dict[str, Any]:
        return {
            "signing_key": {"kid": self.signing_key.kid, "private_pem": self.signing_key.to_pem()},
            "roles": [vars(role) for role in self.roles.values()],
            "users": [user.to_state() for user in self.users.values()],
            "outbox": self.outbox.messages,
            "tickets": self.outbox.tickets,
            "logins": self.login_attempts.records,
            "login_failures": self.login_attempts.failures,
            "served_at": self.served_at,
            "configuration": self.configuration.to_state(),
        }

    def _restore(self, document: dict[str, Any]) -> SigningKey:
        try:
            key = SigningKey.from_pem(document["signing_key"]["private_pem"])
            self.roles = {entry["id"]: Role(**entry) for entry in document.get("roles", [])}
            users = (UserRecord.from_state(entry) for entry in document.get("users", []))
            self.users = {user.user_id: user for user in users}
            self.outbox.restore(document.get("outbox", []), document.get("tickets", {}))
            self.login_attempts.restore(document.get("logins", []), document.get("login_failures", {}))
            self.served_at = dict(document.get("served_at", {}))
            self.configuration = Configuration.from_state(document.get("configuration"))
            for kept in self.configuration.connections.values():
                self.connections[kept["name"]] = Connection.from_state(kept)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateFileError(
                f"{self.store.path} does not hold a usable sandbox state ({type(exc).__name__}: {exc}); "
                "run `python -m sandbox reset`"
            ) from exc
        return key

    def reset(self, *, new_key: bool = False) -> None:
        """Forget users, passwords, the outbox, tickets and logins; keep roles (and the key)."""
        with self.changing():
            self.users.clear()
            self.outbox.clear()
            self.login_attempts.clear()
            self.sign_ins.clear()
            self.codes.clear()
            if new_key:
                self.signing_key = SigningKey.generate()

    def record_served_at(self, **where: str) -> None:
        """Remember where the tenant is served, so ``python -m sandbox token`` signs for that issuer."""
        with self.changing():
            self.served_at = dict(where)

    # --- users ------------------------------------------------------------------------------------

    def users_by_email(self, email: str) -> list[UserRecord]:
        """Exact, case-sensitive match, across connections (as Auth0's ``users-by-email``)."""
        with self._lock:
            return [user for user in self.users.values() if user.email == email]

    def database_user(self, email: str) -> UserRecord | None:
        normalised = email.strip().lower()
        with self._lock:
            for user in self.users.values():
                if user.connection == self.connection and user.email == normalised:
                    return user
        return None

    def account(self, user_id: str) -> UserRecord:
        """The user a user id signs in as: itself, or the user it was linked into. A secondary's sessions and refresh
        tokens reach the primary: the reading that leaves a linked identity's old tokens the most power."""
        with self._lock:
            identity = identities.identity_by_id(self.users, user_id)
        if identity is None:
            raise user_not_found()
        return identity.owner

    def database_identity(self, email: str) -> Identity | None:
        """The database connection's identity with this address, wherever it is linked."""
        with self._lock:
            return identities.find_identity(self.users, connection=self.connection, email=email.strip().lower())

    def view(self, user: UserRecord) -> dict[str, Any]:
        """The user as Auth0 shows it, rendered under the lock so no change lands half-way."""
        with self._lock:
            return user.to_auth0()

    def user(self, user_id: str) -> UserRecord:
        with self._lock:
            user = self.users.get(user_id)
        if user is None:
            raise user_not_found()
        return user

    def create_user(self, new: NewUser, *, base_url: str) -> UserRecord:
        if new.connection != self.connection:
            raise ManagementError(400, "The connection does not exist.", "inexistent_connection")
        if new.password is None:
            raise payload_error("'Missing required property: password'.")
        if not is_strong_enough(new.password):
            raise weak_password()
        password_hash = hash_password(new.password)
        with self.changing():
            if self.database_identity(new.email) is not None:
                raise user_exists()
            user = UserRecord.new(email=new.email, connection=self.connection, name=new.name)
            user.email_verified = new.email_verified
            user.nickname = new.nickname or user.nickname
            user.picture = new.picture or user.picture
            user.app_metadata = None if new.app_metadata is None else merged_metadata({}, new.app_metadata)
            user.user_metadata = new.user_metadata
            user.profile = dict(new.profile)
            user.password_hash = password_hash
            self.users[user.user_id] = user
            sends_verification = new.verify_email if new.verify_email is not None else not new.email_verified
            if sends_verification:
                self.outbox.send(kind="verification_email", to=user.email, user_id=user.user_id, base_url=base_url)
            return user

    def update_user(self, user_id: str, changes: dict[str, Any]) -> UserRecord:
        """PATCH semantics: metadata merges first-level keys (null removes one; ``{}`` clears all)."""
        password = changes.get("password")
        if password is not None and not is_strong_enough(password):
            raise weak_password()
        password_hash = hash_password(password) if password is not None else None
        with self.changing():
            user = self.user(user_id)
            if "connection" in changes and changes["connection"] != user.connection:
                raise ManagementError(400, "The connection does not exist.", "inexistent_connection")
            if "app_metadata" in changes:
                user.app_metadata = merged_metadata(user.app_metadata or {}, changes["app_metadata"])
            if "user_metadata" in changes:
                user.user_metadata = merged_metadata(user.user_metadata or {}, changes["user_metadata"])
            for name in ("email_verified", "name", "nickname", "picture"):
                if name in changes:
                    setattr(user, name, changes[name])
            profile: dict[str, Any] = {
                name: changes[name] for name in ("blocked", "given_name", "family_name") if name in changes
            }
            user.profile = {**user.profile, **profile}
            if password_hash is not None:
                user.password_hash = password_hash
            user.updated_at = timestamp(self._clock())
            return user

    # --- roles ------------------------------------------------------------------------------------

    def assign_roles(self, user_id: str, role_ids: list[str]) -> None:
        with self.changing():
            user = self.user(user_id)
            self.require_roles(role_ids)
            user.role_ids = list(dict.fromkeys([*user.role_ids, *role_ids]))

    def remove_roles(self, user_id: str, role_ids: list[str]) -> None:
        with self.changing():
            user = self.user(user_id)
            self.require_roles(role_ids)
            user.role_ids = [role_id for role_id in user.role_ids if role_id not in role_ids]

    def roles_of(self, user: UserRecord) -> list[Role]:
        with self._lock:
            roles = [self.roles[role_id] for role_id in user.role_ids if role_id in self.roles]
        return sorted(roles, key=lambda role: role.name)

    def permissions_of(self, user: UserRecord) -> list[str]:
        return sorted({role.permission for role in self.roles_of(user) if role.permission})

    def require_roles(self, role_ids: Iterable[str]) -> None:
        if any(role_id not in self.roles for role_id in role_ids):
            raise role_not_found()

    # --- e-mails and tickets ----------------------------------------------------------------------

    def queue_verification_email(self, user_id: str, *, base_url: str) -> dict[str, Any]:
        with self.changing():
            user = self.user(user_id)
            message = self.outbox.send(
                kind="verification_email", to=user.email, user_id=user.user_id, base_url=base_url
            )
        return {
            "type": "verification_email",
            "status": "pending",
            "created_at": message["created_at"],
            "id": "job_" + secrets.token_hex(8),
        }

    def request_password_reset(self, email: str, *, client_id: str, base_url: str) -> None:
        """Auth0 answers the same whether or not the address exists; only real users get mail."""
        with self.changing():
            identity = self.database_identity(email)
            if identity is not None:
                self.outbox.send(
                    kind="password_reset",
                    to=identity.email,
                    user_id=identity.user_id,
                    base_url=base_url,
                    client_id=client_id,
                )

    def set_password(self, *, password: str, email: str | None = None, ticket: str | None = None) -> Identity:
        """Complete a password change by ticket (one use; verifies the e-mail) or, in dev, by e-mail.

        As at Auth0, a changed password ends the account's sessions and leaves its refresh tokens alive
        (a post-change-password Action or the Management API must revoke those).
        """
        if not is_strong_enough(password):
            raise weak_password()
        password_hash = hash_password(password)
        with self.changing():
            found = (
                identities.identity_by_id(self.users, self.outbox.redeem(ticket))
                if ticket is not None
                else self.database_identity(email or "")
            )
            if found is None:
                raise invalid_ticket() if ticket is not None else user_not_found()
            identities.set_credentials(found, password_hash, verified=ticket is not None)
            found.owner.updated_at = timestamp(self._clock())
            if ticket is not None and found.linked is None:  # a change-password ticket: Auth0 dates it on the user
                found.owner.last_password_reset = found.owner.updated_at
            self.login_attempts.unblock(found.email)
            self.sign_ins.end_sessions(found.owner.user_id)
            changed = identities.identity_by_id(self.users, found.user_id)
            assert changed is not None
            return changed

    def ticket_holder(self, ticket: str) -> tuple[Identity, str]:
        """Whose password-change ticket this is and until when, without using it up."""
        with self._lock:
            user_id, expires_at = self.outbox.holder(ticket)
            found = identities.identity_by_id(self.users, user_id)
        if found is None:
            raise invalid_ticket()
        return found, expires_at

    # --- linked identities ------------------------------------------------------------------------

    def link_identity(self, primary_id: str, *, provider: str, user_id: str) -> list[dict[str, Any]]:
        """Link a user into ``primary_id``; the primary's identities afterwards (Auth0's 201 answer)."""
        with self.changing():
            primary = identities.link(self.users, primary_id, provider=provider, user_id=user_id)
            primary.updated_at = timestamp(self._clock())
            return list(primary.to_auth0()["identities"])

    def unlink_identity(self, primary_id: str, *, provider: str, user_id: str) -> list[dict[str, Any]]:
        with self.changing():
            primary = identities.unlink(self.users, primary_id, provider=provider, user_id=user_id)
            primary.updated_at = timestamp(self._clock())
            return list(primary.to_auth0()["identities"])

    @property
    def logins(self) -> list[dict[str, Any]]:
        """The last password sign-in attempts, oldest first (``/sandbox/state`` shows them too)."""
        return self.login_attempts.records

    # --- dev views (never a password hash) --------------------------------------------------------

    def describe_user(self, user: UserRecord) -> dict[str, Any]:
        with self._lock:
            roles = self.roles_of(user)
            return {
                **user.to_auth0(),
                "roles": [{**role.to_auth0(), "permission": role.permission} for role in roles],
                "permissions": self.permissions_of(user),
                "has_password": user.password_hash is not None,
            }

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "connection": self.connection,
                "kid": self.signing_key.kid,
                "roles": [{**role.to_auth0(), "permission": role.permission} for role in self.roles.values()],
                "users": [self.describe_user(user) for user in self.users.values()],
                "outbox": list(self.outbox.messages),
                "logins": list(self.login_attempts.records),
                "login_failures": dict(self.login_attempts.failures),
            }
