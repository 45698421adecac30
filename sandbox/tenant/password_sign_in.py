"""A database identity's password check, with Auth0's brute-force protection per user and IP address."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sandbox.errors import OAuthError
from sandbox.tenant.passwords import verify_password
from sandbox.tenant.users import UserRecord, timestamp

if TYPE_CHECKING:
    from sandbox.tenant.tenant import Tenant

WRONG_CREDENTIALS = "Wrong email or password."
_BLOCKED_DESCRIPTION = (
    "Your account has been blocked after multiple consecutive login attempts. "
    "We've sent you an email with instructions on how to unblock it."
)


class PasswordSignIn:
    """Used by the password-realm grant and the login page; the tenant's lock guards the counts."""

    def __init__(self, tenant: Tenant, *, clock: Callable[[], float] = time.time) -> None:
        self._tenant = tenant
        self._clock = clock
        self._try_settled = threading.Condition(tenant.lock)  # a sign-in try was counted or given back

    def authenticate(
        self, *, username: str, password: str, ip: str, forwarded_for: str | None, client_id: str
    ) -> UserRecord:
        """The user the database identity with this address signs in as (the primary, when it is linked)."""
        tenant = self._tenant
        email = username.strip().lower()
        with tenant.lock:
            identity = tenant.database_identity(email)
            user = identity.owner if identity is not None else None
            stored_hash = identity.password_hash if identity is not None else None
            # Taken under the lock, before the slow hash: a burst gets max_failed_logins checks, no more.
            reserved = user is None or self._reserve_try(email, ip)
        if not reserved:
            self._record_login(email, ip, forwarded_for, client_id, "blocked")
            raise OAuthError(429, "too_many_attempts", _BLOCKED_DESCRIPTION)
        if user is None:
            self._record_login(email, ip, forwarded_for, client_id, "wrong_password")
            raise OAuthError(403, "invalid_grant", WRONG_CREDENTIALS)
        try:
            correct = verify_password(password, stored_hash)
        except BaseException:
            self._settle_try(tenant.login_attempts.release, email, ip)
            raise
        if not correct:
            self._settle_try(tenant.login_attempts.failed, email, ip)
            self._record_login(email, ip, forwarded_for, client_id, "wrong_password")
            raise OAuthError(403, "invalid_grant", WRONG_CREDENTIALS)
        if user.profile.get("blocked") is True:
            self._settle_try(tenant.login_attempts.release, email, ip)
            self._record_login(email, ip, forwarded_for, client_id, "user_blocked")
            raise OAuthError(401, "unauthorized", "user is blocked")
        with tenant.changing():
            tenant.login_attempts.succeeded(email, ip)
            self._try_settled.notify_all()
            user.last_login = timestamp(self._clock())
            user.logins_count += 1
        self._record_login(email, ip, forwarded_for, client_id, "success")
        return user

    def _reserve_try(self, email: str, ip: str) -> bool:
        """Under the lock: reserve a try, waiting while the tries being checked now decide whether it may run."""
        while (reserved := self._tenant.login_attempts.reserve(email, ip)) is None:
            self._try_settled.wait()
        return reserved

    def _settle_try(self, settle: Callable[[str, str], None], email: str, ip: str) -> None:
        with self._tenant.changing():
            settle(email, ip)
            self._try_settled.notify_all()

    def _record_login(self, email: str, ip: str, forwarded_for: str | None, client_id: str, outcome: str) -> None:
        with self._tenant.changing():
            self._tenant.login_attempts.record(email, ip, forwarded_for, client_id, outcome)
