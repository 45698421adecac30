"""A sandbox user, stored with its password hash, role ids and linked identities, and the Auth0 JSON it is shown as."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

# Connections whose users are not the tenant's own: Auth0 calls them social (``isSocial``).
SOCIAL_PROVIDERS = frozenset({"google-oauth2"})
# The attributes of a secondary account Auth0 keeps in its identity's ``profileData`` once it is linked.
PROFILE_DATA_KEYS = ("email", "email_verified", "name", "nickname", "picture", "given_name", "family_name")
# The order Auth0 writes a user's keys in (tests/fixtures/auth0/user_*.json).
_AUTH0_ORDER = (
    "created_at",
    "email",
    "email_verified",
    "identities",
    "name",
    "nickname",
    "picture",
    "updated_at",
    "user_id",
    "last_login",
    "logins_count",
    "app_metadata",
    "user_metadata",
    "blocked",
    "given_name",
    "family_name",
)


def timestamp(moment: float | None = None) -> str:
    """Auth0's timestamps: ISO 8601 UTC with milliseconds and a Z."""
    when = datetime.now(UTC) if moment is None else datetime.fromtimestamp(moment, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class NewUser:
    """A validated ``POST /api/v2/users`` body."""

    connection: str
    email: str
    password: str | None
    email_verified: bool
    verify_email: bool | None
    name: str | None
    nickname: str | None
    picture: str | None
    app_metadata: dict[str, Any] | None
    user_metadata: dict[str, Any] | None
    profile: dict[str, Any] = field(default_factory=dict)


@dataclass
class LinkedIdentity:
    """A secondary account linked into a user: no longer a user, still a way in (its password stays its own)."""

    connection: str
    provider: str
    local_id: str
    is_social: bool
    profile_data: dict[str, Any]
    password_hash: str | None = None

    @property
    def user_id(self) -> str:
        return f"{self.provider}|{self.local_id}"

    @property
    def email(self) -> str:
        return str(self.profile_data.get("email", ""))

    def to_auth0(self) -> dict[str, Any]:
        return {
            "profileData": dict(self.profile_data),
            "connection": self.connection,
            "user_id": self.local_id,
            "provider": self.provider,
            "isSocial": self.is_social,
        }


@dataclass
class UserRecord:
    """One user as the sandbox stores it (``password_hash`` and ``role_ids`` are never shown).

    ``linked`` holds the secondary accounts linked into it, shown after its own identity in ``identities``.
    """

    user_id: str
    email: str
    connection: str
    provider: str
    is_social: bool
    email_verified: bool
    name: str
    nickname: str
    picture: str
    created_at: str
    updated_at: str
    app_metadata: dict[str, Any] | None = None
    user_metadata: dict[str, Any] | None = None
    profile: dict[str, Any] = field(default_factory=dict)
    last_login: str | None = None
    logins_count: int = 0
    password_hash: str | None = None
    role_ids: list[str] = field(default_factory=list)
    linked: list[LinkedIdentity] = field(default_factory=list)

    @classmethod
    def new(
        cls,
        *,
        email: str,
        connection: str,
        provider: str = "auth0",
        name: str | None = None,
        local_id: str | None = None,
    ) -> UserRecord:
        is_social = provider in SOCIAL_PROVIDERS
        # Database and passwordless users get 24 hex digits (a Mongo-style id); social ones a long number.
        local_id = local_id or (str(secrets.randbelow(10**21)).zfill(21) if is_social else secrets.token_hex(12))
        now = timestamp()
        return cls(
            user_id=f"{provider}|{local_id}",
            email=email,
            connection=connection,
            provider=provider,
            is_social=is_social,
            email_verified=is_social,
            name=name or email,
            nickname=email.split("@", 1)[0],
            picture=gravatar(email),
            created_at=now,
            updated_at=now,
        )

    @property
    def local_id(self) -> str:
        return self.user_id.split("|", 1)[1]

    def own_identity(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "user_id": self.local_id,
            "provider": self.provider,
            "isSocial": self.is_social,
        }

    def profile_data(self) -> dict[str, Any]:
        """What Auth0 keeps of this user in ``profileData`` once it is linked into another."""
        shown = {**self.to_auth0(), **self.profile}
        return {key: shown[key] for key in PROFILE_DATA_KEYS if key in shown}

    def as_linked(self) -> LinkedIdentity:
        return LinkedIdentity(
            connection=self.connection,
            provider=self.provider,
            local_id=self.local_id,
            is_social=self.is_social,
            profile_data=self.profile_data(),
            password_hash=self.password_hash,
        )

    def to_auth0(self) -> dict[str, Any]:
        """The user as the Management API answers it."""
        shown: dict[str, Any] = {
            "created_at": self.created_at,
            "email": self.email,
            "email_verified": self.email_verified,
            "identities": [self.own_identity(), *(identity.to_auth0() for identity in self.linked)],
            "name": self.name,
            "nickname": self.nickname,
            "picture": self.picture,
            "updated_at": self.updated_at,
            "user_id": self.user_id,
        }
        # Auth0 shows metadata only once it was set (``users_by_email_social_only.json`` has none).
        if self.app_metadata is not None:
            shown["app_metadata"] = dict(self.app_metadata)
        if self.last_login is not None:
            shown["last_login"] = self.last_login
            shown["logins_count"] = self.logins_count
        if self.user_metadata is not None:
            shown["user_metadata"] = dict(self.user_metadata)
        shown.update(self.profile)
        return {key: shown[key] for key in _AUTH0_ORDER if key in shown}

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> UserRecord:
        known = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["linked"] = [LinkedIdentity(**entry) for entry in data.get("linked", [])]
        return cls(**values)


def merged_metadata(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Auth0's PATCH of ``app_metadata``/``user_metadata``: first-level keys merge, null removes one, {} clears all."""
    if not changes:
        return {}
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def gravatar(email: str) -> str:
    digest = hashlib.md5(email.encode("utf-8"), usedforsecurity=False).hexdigest()
    initials = (email[:2] or "u").lower()
    fallback = quote(f"https://cdn.auth0.com/avatars/{initials}.png", safe="")
    return f"https://s.gravatar.com/avatar/{digest}?s=480&r=pg&d={fallback}"
