"""The ways in besides a database password: Google, a passwordless e-mail code, and sign-up to the database.

Each answers with the user the sign-in is for: a linked identity signs in as the user it was linked into,
as at Auth0. A federated profile is refreshed at every sign-in (Auth0 syncs social profiles at login), so
the ``email_verified`` a user carries is what Google asserted last.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from sandbox.errors import OAuthError, SignupError
from sandbox.tenant.connections import GOOGLE, PASSWORDLESS_EMAIL
from sandbox.tenant.identities import find_identity, identity_by_id
from sandbox.tenant.passwords import hash_password, is_strong_enough
from sandbox.tenant.users import UserRecord, timestamp

if TYPE_CHECKING:
    from sandbox.tenant.tenant import Tenant

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def usable_address(email: str) -> bool:
    return bool(_ADDRESS.match(email.strip())) and len(email.strip()) <= 254


def google_account_id(email: str) -> str:
    """A stand-in Google account number, stable per address (Google's ``sub`` is a 21-digit number)."""
    number = int.from_bytes(hashlib.sha256(email.strip().lower().encode("utf-8")).digest()[:9], "big")
    return "1" + str(number).zfill(20)[-20:]


class SignInMethods:
    """Reached as ``tenant.methods``; every change is saved under the tenant's lock."""

    def __init__(self, tenant: Tenant) -> None:
        self._tenant = tenant

    def offered(self) -> tuple[str, ...]:
        """The ways in besides the password that this tenant has a connection for (a bare tenant: none)."""
        return tuple(name for name in (GOOGLE, PASSWORDLESS_EMAIL) if name in self._tenant.connections)

    def _require(self, connection: str) -> None:
        if connection not in self._tenant.connections:
            raise OAuthError(400, "bad.connection", "Connection does not exist")

    def google(self, *, email: str, email_verified: bool) -> UserRecord:
        """The Google stand-in's answer: its account is created at the first sign-in and refreshed at each one."""
        self._require(GOOGLE)
        tenant = self._tenant
        shown = email.strip()
        user_id = f"{GOOGLE}|{google_account_id(shown)}"
        with tenant.changing():
            identity = identity_by_id(tenant.users, user_id)
            if identity is None:
                user = UserRecord.new(
                    email=shown, connection=GOOGLE, provider=GOOGLE, local_id=user_id.split("|", 1)[1]
                )
                user.email_verified = email_verified
                user.profile = {"given_name": shown.split("@", 1)[0]}
                tenant.users[user.user_id] = user
                owner = user
            elif identity.linked is not None:
                identity.linked.profile_data.update(email=shown, email_verified=email_verified)
                owner = identity.owner
            else:
                owner = identity.owner
                owner.email, owner.email_verified = shown, email_verified
            return self._signed_in(owner)

    def start_passwordless(self, email: str) -> str:
        """Send a code to ``email`` (the outbox); the address as Auth0 stores it (lower-cased)."""
        self._require(PASSWORDLESS_EMAIL)
        address = email.strip().lower()
        if not usable_address(address):
            raise OAuthError(400, "bad.email", "The email is invalid")
        code, expires_at = self._tenant.codes.issue(address)
        with self._tenant.changing():
            self._tenant.outbox.send_code(to=address, code=code, expires_at=expires_at)
        return address

    def passwordless(self, email: str, code: str) -> UserRecord:
        """The user a right code signs in (created at the first one, its address verified by the code)."""
        self._require(PASSWORDLESS_EMAIL)
        tenant = self._tenant
        address = email.strip().lower()
        tenant.codes.redeem(address, code)  # CodeRejected for a wrong, expired or used code
        with tenant.changing():
            identity = find_identity(tenant.users, connection=PASSWORDLESS_EMAIL, email=address)
            if identity is None:
                if tenant.connections[PASSWORDLESS_EMAIL].disable_signup:
                    raise OAuthError(403, "access_denied", "Signups are not allowed for this connection")
                user = UserRecord.new(email=address, connection=PASSWORDLESS_EMAIL, provider=PASSWORDLESS_EMAIL)
                user.email_verified = True
                tenant.users[user.user_id] = user
                owner = user
            else:
                owner = identity.owner
            return self._signed_in(owner)

    def sign_up(self, *, email: str, password: str, connection: str, base_url: str) -> UserRecord:
        """``/dbconnections/signup``: an unverified database user with the password its creator chose."""
        tenant = self._tenant
        database = tenant.connections.get(connection)
        if database is None or not database.is_database:
            raise SignupError(400, "invalid_connection", "connection not found")
        if database.disable_signup:
            raise SignupError(400, "operation_not_allowed", "public signup is disabled")
        address = email.strip().lower()
        if not usable_address(address):
            raise SignupError(400, "invalid_signup", "Invalid sign up")
        if not is_strong_enough(password):
            raise SignupError(400, "invalid_password", "PasswordStrengthError: Password is too weak")
        password_hash = hash_password(password)
        with tenant.changing():
            if tenant.database_identity(address) is not None:
                raise SignupError(400, "user_exists", "The user already exists.")
            user = UserRecord.new(email=address, connection=connection)
            user.password_hash = password_hash
            tenant.users[user.user_id] = user
            # Auth0 sends its verification e-mail when a database user signs up.
            tenant.outbox.send(kind="verification_email", to=address, user_id=user.user_id, base_url=base_url)
            return user

    def _signed_in(self, owner: UserRecord) -> UserRecord:
        if owner.profile.get("blocked") is True:
            raise OAuthError(401, "unauthorized", "user is blocked")
        owner.last_login = timestamp()
        owner.logins_count += 1
        return owner
