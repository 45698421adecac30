"""A dev-only shortcut (``POST /sandbox/users``, tests): a user of any connection, with roles, maybe a password."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.errors import ManagementError, user_exists, weak_password
from sandbox.tenant.connections import GOOGLE, PASSWORDLESS_EMAIL
from sandbox.tenant.passwords import hash_password, is_strong_enough
from sandbox.tenant.sign_in_methods import google_account_id
from sandbox.tenant.users import UserRecord, merged_metadata

if TYPE_CHECKING:
    from sandbox.tenant.tenant import Tenant


def seed_user(
    tenant: Tenant,
    *,
    email: str,
    connection: str,
    password: str | None,
    role_ids: list[str],
    app_metadata: dict[str, Any] | None,
    email_verified: bool | None = None,
) -> UserRecord:
    """A database user (address lower-cased), a Google user (address as given) or a passwordless one.

    ``email_verified`` defaults to what the connection would say: false for the database, true for
    Google and passwordless.
    """
    database = connection == tenant.connection
    # A bare tenant has no connection until the Management API makes one (as ``POST /api/v2/users`` holds).
    if connection not in tenant.connections or not (database or connection in (GOOGLE, PASSWORDLESS_EMAIL)):
        raise ManagementError(400, "The connection does not exist.", "inexistent_connection")
    if not database and password is not None:
        raise ManagementError(400, "Only database users have a password.", "invalid_body")
    if password is not None and not is_strong_enough(password):
        raise weak_password()
    address = email.strip() if connection == GOOGLE else email.strip().lower()
    password_hash = hash_password(password) if password is not None else None
    with tenant.changing():
        if database and tenant.database_identity(address) is not None:
            raise user_exists()
        tenant.require_roles(role_ids)
        local_id = google_account_id(address) if connection == GOOGLE else None
        user = UserRecord.new(
            email=address, connection=connection, provider="auth0" if database else connection, local_id=local_id
        )
        if f"{user.provider}|{user.local_id}" in tenant.users:
            raise user_exists()
        user.email_verified = (not database) if email_verified is None else email_verified
        user.app_metadata = None if app_metadata is None else merged_metadata({}, app_metadata)
        user.password_hash = password_hash
        user.role_ids = list(dict.fromkeys(role_ids))
        tenant.users[user.user_id] = user
        return user
