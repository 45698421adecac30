"""Identities across users: who a sign-in with an identity is, and linking a user into another (Management API).

As Auth0 documents it ("User Account Linking"): the secondary disappears from the users list and appears,
with its attributes in ``profileData``, after the primary's own identity; its metadata and roles are
discarded; a sign-in with the secondary's credentials is a sign-in as the primary. Unlinking makes it a
user again, without metadata. The caller (``Tenant``) holds the lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sandbox.errors import ManagementError, user_not_found
from sandbox.tenant.users import LinkedIdentity, UserRecord


@dataclass(frozen=True)
class Identity:
    """One way into the tenant: a user's own identity, or one linked into it (``owner`` is the user it signs in as)."""

    owner: UserRecord
    user_id: str
    connection: str
    email: str
    email_verified: bool
    password_hash: str | None
    linked: LinkedIdentity | None = None


def identities_of(user: UserRecord) -> list[Identity]:
    own = Identity(
        owner=user,
        user_id=user.user_id,
        connection=user.connection,
        email=user.email,
        email_verified=user.email_verified,
        password_hash=user.password_hash,
    )
    linked = [
        Identity(
            owner=user,
            user_id=identity.user_id,
            connection=identity.connection,
            email=identity.email,
            email_verified=identity.profile_data.get("email_verified") is True,
            password_hash=identity.password_hash,
            linked=identity,
        )
        for identity in user.linked
    ]
    return [own, *linked]


def find_identity(users: Mapping[str, UserRecord], *, connection: str, email: str) -> Identity | None:
    """The identity of ``connection`` whose address is ``email`` (as stored), wherever it is linked."""
    for user in users.values():
        for identity in identities_of(user):
            if identity.connection == connection and identity.email == email:
                return identity
    return None


def identity_by_id(users: Mapping[str, UserRecord], user_id: str) -> Identity | None:
    """The identity a user id names: a user's own, or one linked into a user."""
    user = users.get(user_id)
    if user is not None:
        return identities_of(user)[0]
    for candidate in users.values():
        for identity in identities_of(candidate)[1:]:
            if identity.user_id == user_id:
                return identity
    return None


def set_credentials(identity: Identity, password_hash: str, *, verified: bool) -> None:
    """A new password for this identity (its own or a linked one's); ``verified`` marks the address proved."""
    if identity.linked is None:
        identity.owner.password_hash = password_hash
        identity.owner.email_verified = identity.owner.email_verified or verified
        return
    identity.linked.password_hash = password_hash
    if verified:
        identity.linked.profile_data["email_verified"] = True


def link(users: dict[str, UserRecord], primary_id: str, *, provider: str, user_id: str) -> UserRecord:
    """``POST /api/v2/users/{primary}/identities`` with ``{provider, user_id}``: the secondary joins the primary."""
    primary = users.get(primary_id)
    if primary is None:
        raise user_not_found()
    secondary_id = user_id if user_id.startswith(f"{provider}|") else f"{provider}|{user_id}"
    if secondary_id == primary_id:
        raise ManagementError(400, "Main identity and the new one are the same.", "invalid_body")
    secondary = users.get(secondary_id)
    if secondary is None:
        if identity_by_id(users, secondary_id) is not None:
            raise ManagementError(409, "The identity is already linked to another user.", "identity_conflict")
        raise ManagementError(404, "The user to link does not exist.", "inexistent_user")
    if secondary.linked:
        # Auth0 refuses to link a user that is itself a primary: its identities would be lost.
        raise ManagementError(400, "The secondary user has linked identities: unlink them first.", "invalid_body")
    del users[secondary_id]
    primary.linked.append(secondary.as_linked())
    return primary


def unlink(users: dict[str, UserRecord], primary_id: str, *, provider: str, user_id: str) -> UserRecord:
    """``DELETE /api/v2/users/{primary}/identities/{provider}/{user_id}``: the secondary is a user again."""
    primary = users.get(primary_id)
    if primary is None:
        raise user_not_found()
    local_id = user_id.split("|", 1)[1] if user_id.startswith(f"{provider}|") else user_id
    identity = next(
        (entry for entry in primary.linked if (entry.provider, entry.local_id) == (provider, local_id)), None
    )
    if identity is None:
        raise ManagementError(400, "The identity is not linked to this user.", "invalid_uri")
    primary.linked.remove(identity)
    restored = UserRecord.new(
        email=identity.email,
        connection=identity.connection,
        provider=identity.provider,
        name=str(identity.profile_data.get("name") or identity.email),
        local_id=identity.local_id,
    )
    restored.email_verified = identity.profile_data.get("email_verified") is True
    restored.password_hash = identity.password_hash
    users[restored.user_id] = restored
    return primary
