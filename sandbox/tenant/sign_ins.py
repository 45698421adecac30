"""Browser sign-in state: login transactions, sessions, authorization codes and rotating refresh tokens.

Kept in memory only: a sandbox restart signs everyone out, as if their sessions and refresh tokens
had expired (the SPA SDK then asks the person to sign in again). Every secret handed out (session
cookie, code, refresh token) is kept only as its SHA-256, so no view or dump of this state can be
replayed, and lookups never compare secrets byte by byte.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sandbox.defaults import (
    AUTHORIZATION_CODE_SECONDS,
    LOGIN_TRANSACTION_SECONDS,
    REFRESH_TOKEN_IDLE_SECONDS,
    REFRESH_TOKEN_MAX_SECONDS,
    SESSION_IDLE_SECONDS,
    SESSION_MAX_SECONDS,
)


class SignInRejected(Exception):
    """A transaction, code or refresh token that is unknown, expired, used up or revoked."""


@dataclass(frozen=True)
class Authorization:
    """An ``/authorize`` request after it was checked: what a code, once issued, is bound to."""

    client_id: str
    redirect_uri: str
    response_mode: str  # "query" or "web_message"
    state: str | None
    nonce: str | None
    code_challenge: str
    scope: str
    audience: str | None
    login_hint: str | None = None


@dataclass
class Session:
    """A signed-in browser: ``sid`` is public (it goes in ID tokens), the cookie value is not."""

    sid: str
    user_id: str
    auth_time: int
    expires_at: float
    idle_until: float
    connection: str = ""  # the connection the person signed in with (the post-login event names it)


@dataclass(frozen=True)
class IssuedCode:
    """A code and what its tokens carry: the post-login Actions ran before it was issued."""

    authorization: Authorization
    user_id: str
    auth_time: int
    sid: str
    family: str  # the refresh-token family this code's tokens belong to
    permissions: tuple[str, ...] | None = None  # as when the login started; None: read them at exchange
    id_claims: Mapping[str, Any] = field(default_factory=dict)
    access_claims: Mapping[str, Any] = field(default_factory=dict)
    connection: str = ""


@dataclass(frozen=True)
class RefreshGrant:
    """What a refresh token stands for; ``used`` once it was exchanged (rotation)."""

    family: str
    client_id: str
    user_id: str
    scope: str
    audience: str | None
    auth_time: int
    sid: str
    idle_until: float
    used: bool = False
    connection: str = ""  # of the login that started the family


@dataclass
class _Family:
    expires_at: float
    revoked: bool = False
    members: set[str] = field(default_factory=set)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_sid() -> str:
    """A session id: public (it goes in ID tokens as ``sid``), unlike the cookie that names the session."""
    return secrets.token_urlsafe(16)


class SignInStore:
    """Thread-safe; expired entries are dropped whenever something new is stored."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._transactions: dict[str, tuple[Authorization, float]] = {}
        self._sessions: dict[str, Session] = {}
        self._codes: dict[str, tuple[IssuedCode, float]] = {}
        self._redeemed: dict[str, tuple[str, float]] = {}  # code digest -> (family, forget after)
        self._refresh: dict[str, RefreshGrant] = {}
        self._families: dict[str, _Family] = {}

    def now(self) -> float:
        return self._clock()

    def clear(self) -> None:
        with self._lock:
            for table in (self._transactions, self._sessions, self._codes, self._redeemed, self._refresh):
                table.clear()
            self._families.clear()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "sessions": len(self._sessions),
                "refresh_token_families": sum(1 for family in self._families.values() if not family.revoked),
            }

    # --- login transactions (the login page's hidden ``state``) -------------------------------------

    def begin(self, authorization: Authorization) -> str:
        transaction = secrets.token_urlsafe(24)
        with self._lock:
            self._prune()
            self._transactions[digest(transaction)] = (authorization, self._clock() + LOGIN_TRANSACTION_SECONDS)
        return transaction

    def pending(self, transaction: str) -> Authorization:
        """The authorization a login page is for, without using it up."""
        with self._lock:
            entry = self._transactions.get(digest(transaction))
            if entry is None or entry[1] < self._clock():
                raise SignInRejected("This sign-in page has expired. Go back to the application and sign in again.")
            return entry[0]

    def finish(self, transaction: str) -> Authorization:
        """Use the transaction up: one sign-in per login page."""
        with self._lock:
            entry = self._transactions.pop(digest(transaction), None)
        if entry is None or entry[1] < self._clock():
            raise SignInRejected("This sign-in page has expired. Go back to the application and sign in again.")
        return entry[0]

    # --- sessions (the ``auth0`` cookie) ------------------------------------------------------------

    def open_session(self, user_id: str, *, connection: str = "", sid: str | None = None) -> tuple[str, Session]:
        """A new session for a person who just signed in: (cookie value, session)."""
        now = self._clock()
        cookie = secrets.token_urlsafe(32)
        session = Session(
            sid=sid or new_sid(),
            user_id=user_id,
            auth_time=int(now),
            expires_at=now + SESSION_MAX_SECONDS,
            idle_until=now + SESSION_IDLE_SECONDS,
            connection=connection,
        )
        with self._lock:
            self._prune()
            self._sessions[digest(cookie)] = session
        return cookie, session

    def session(self, cookie: str | None) -> Session | None:
        """The live session behind a cookie (its idle timer restarts), or None."""
        if not cookie:
            return None
        now = self._clock()
        with self._lock:
            key = digest(cookie)
            session = self._sessions.get(key)
            if session is None:
                return None
            if min(session.expires_at, session.idle_until) < now:
                del self._sessions[key]
                return None
            session.idle_until = now + SESSION_IDLE_SECONDS
            return replace(session)

    def close_session(self, cookie: str | None) -> None:
        if cookie:
            with self._lock:
                self._sessions.pop(digest(cookie), None)

    def end_sessions(self, user_id: str) -> int:
        """End every session of a user (a changed password does, at Auth0); how many there were."""
        with self._lock:
            ended = [key for key, session in self._sessions.items() if session.user_id == user_id]
            for key in ended:
                del self._sessions[key]
        return len(ended)

    def switch_user(self, sid: str, user_id: str) -> None:
        """The session becomes the primary user's: a login the post-login Action switched (setPrimaryUser)."""
        with self._lock:
            for session in self._sessions.values():
                if session.sid == sid:
                    session.user_id = user_id

    # --- authorization codes ------------------------------------------------------------------------

    def issue_code(
        self,
        authorization: Authorization,
        session: Session,
        *,
        permissions: tuple[str, ...] | None = None,
        id_claims: Mapping[str, Any] | None = None,
        access_claims: Mapping[str, Any] | None = None,
    ) -> str:
        code = secrets.token_urlsafe(32)
        issued = IssuedCode(
            authorization=authorization,
            user_id=session.user_id,
            auth_time=session.auth_time,
            sid=session.sid,
            family=secrets.token_hex(16),
            permissions=permissions,
            id_claims=dict(id_claims or {}),
            access_claims=dict(access_claims or {}),
            connection=session.connection,
        )
        with self._lock:
            self._prune()
            self._codes[digest(code)] = (issued, self._clock() + AUTHORIZATION_CODE_SECONDS)
        return code

    def redeem_code(self, code: str) -> IssuedCode:
        """Use a code up, whatever happens next. A second use revokes what the first one got (RFC 6749 4.1.2)."""
        key = digest(code)
        now = self._clock()
        with self._lock:
            entry = self._codes.pop(key, None)
            if entry is None:
                earlier = self._redeemed.get(key)
                if earlier is not None:
                    self._revoke_family(earlier[0])
                raise SignInRejected("Invalid authorization code")
            issued, expires_at = entry
            self._redeemed[key] = (issued.family, expires_at + AUTHORIZATION_CODE_SECONDS)
        if expires_at < now:
            raise SignInRejected("Invalid authorization code")
        return issued

    # --- refresh tokens with rotation ---------------------------------------------------------------

    def issue_refresh_token(self, grant: RefreshGrant) -> str:
        """A new refresh token in ``grant.family`` (a new family starts its absolute lifetime)."""
        token = secrets.token_urlsafe(48)
        now = self._clock()
        with self._lock:
            self._prune()
            family = self._families.setdefault(grant.family, _Family(expires_at=now + REFRESH_TOKEN_MAX_SECONDS))
            if family.revoked:
                raise SignInRejected("Unknown or invalid refresh token.")
            key = digest(token)
            family.members.add(key)
            self._refresh[key] = replace(grant, idle_until=now + REFRESH_TOKEN_IDLE_SECONDS, used=False)
        return token

    def rotate(self, token: str, client_id: str) -> RefreshGrant:
        """Use a refresh token up. Presenting one that was already used revokes its whole family."""
        now = self._clock()
        with self._lock:
            key = digest(token)
            grant = self._refresh.get(key)
            family = self._families.get(grant.family) if grant is not None else None
            if grant is None or family is None or family.revoked or grant.client_id != client_id:
                raise SignInRejected("Unknown or invalid refresh token.")
            if grant.used:
                # Someone holds a copy of a token that was already rotated: stop every token of the family.
                self._revoke_family(grant.family)
                raise SignInRejected("Unknown or invalid refresh token.")
            if min(grant.idle_until, family.expires_at) < now:
                raise SignInRejected("Unknown or invalid refresh token.")
            self._refresh[key] = replace(grant, used=True)
            return grant

    def revoke(self, token: str, client_id: str) -> None:
        """``/oauth/revoke``: the token's family goes (unknown tokens are ignored, as RFC 7009 says)."""
        with self._lock:
            grant = self._refresh.get(digest(token))
            if grant is not None and grant.client_id == client_id:
                self._revoke_family(grant.family)

    def revoke_family(self, family: str) -> None:
        with self._lock:
            self._revoke_family(family)

    def _revoke_family(self, name: str) -> None:
        family = self._families.get(name)
        if family is None:
            # A code reused before its first tokens were stored: the family is born revoked.
            self._families[name] = _Family(expires_at=self._clock() + REFRESH_TOKEN_MAX_SECONDS, revoked=True)
            return
        family.revoked = True
        for key in family.members:
            self._refresh.pop(key, None)
        family.members.clear()

    def _prune(self) -> None:
        now = self._clock()
        for key in [key for key, (_, until) in self._transactions.items() if until < now]:
            del self._transactions[key]
        for key in [key for key, (_, until) in self._codes.items() if until < now]:
            del self._codes[key]
        for key in [key for key, (_, until) in self._redeemed.items() if until < now]:
            del self._redeemed[key]
        for key in [key for key, s in self._sessions.items() if min(s.expires_at, s.idle_until) < now]:
            del self._sessions[key]
        for name in [name for name, family in self._families.items() if family.expires_at < now]:
            for key in self._families.pop(name).members:
                self._refresh.pop(key, None)
