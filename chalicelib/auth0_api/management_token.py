"""The Management API access token: fetched once per warm container, refreshed before it expires."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error, RateLimitError

from chalicelib.auth0_api.pacing import RetryPolicy
from chalicelib.config.purchase_settings import Auth0Endpoint
from chalicelib.credentials import CredentialsSource
from chalicelib.deadlines import current_deadline, current_stats
from chalicelib.errors import UpstreamRejected, UpstreamUnavailable
from chalicelib.logs import log_event

log = logging.getLogger("gumroad_auth0.auth0")

# M2M tokens live 24 h by default; refreshing 10 minutes early means no request ever
# carries a token that expires while it is in flight.
REFRESH_MARGIN_SECONDS = 600.0
_REJECTED_STATUSES = frozenset({400, 401, 403})


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


class ManagementToken:
    """A callable for auth0-python's ``token=``: returns a cached M2M access token.

    The SDK's own ``client_id``/``client_secret`` mode builds a fresh httpx client for every
    refresh and ignores the one we inject, so the service fetches the token itself with the
    Authentication API's ``GetToken.client_credentials``.
    """

    def __init__(
        self,
        *,
        endpoint: Auth0Endpoint,
        credentials: CredentialsSource,
        policy: RetryPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._endpoint = endpoint
        self._credentials = credentials
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def __call__(self) -> str:
        with self._lock:
            token = self._token
            if token is not None and self._clock() < token.expires_at - REFRESH_MARGIN_SECONDS:
                return token.value
            self._token = self._fetch_with_fresh_credentials_on_rejection()
            return self._token.value

    def invalidate(self) -> None:
        """Drop the cached token (the Management API said 401: revoked key, changed grant)."""
        with self._lock:
            self._token = None

    def _fetch_with_fresh_credentials_on_rejection(self) -> _Token:
        try:
            return self._fetch()
        except _CredentialsRejected:
            # The secret may have been rotated since we read it: read it again, once.
            self._credentials.invalidate()
        try:
            return self._fetch()
        except _CredentialsRejected as exc:
            log_event(log, logging.ERROR, "m2m_credentials_rejected", status=exc.status, error=exc.error_code)
            raise UpstreamRejected(
                "Auth0 rejected the service's M2M credentials; check the client id/secret and the API grant"
            ) from None

    def _fetch(self) -> _Token:
        credentials = self._credentials.get()
        timeout = self._policy.call_timeout(current_deadline())
        client = GetToken(
            self._endpoint.netloc,
            credentials.client_id,
            client_secret=credentials.client_secret,
            protocol=self._endpoint.scheme,
            timeout=timeout,
            telemetry=False,
        )
        current_stats().authentication += 1
        try:
            answer = client.client_credentials(audience=self._endpoint.management_audience)
        except RateLimitError:
            current_stats().throttled += 1
            raise UpstreamUnavailable("Auth0's token endpoint is rate limiting the service") from None
        except Auth0Error as exc:
            if exc.status_code in _REJECTED_STATUSES:
                raise _CredentialsRejected(exc.status_code, str(exc.error_code)) from None
            raise UpstreamUnavailable(f"Auth0's token endpoint answered {exc.status_code}") from None
        except requests.RequestException as exc:
            # The tenant's address (not a secret) says which Auth0 could not be reached: a local sandbox not started?
            where = f"{self._endpoint.scheme}://{self._endpoint.netloc}"
            raise UpstreamUnavailable(
                f"Auth0's token endpoint at {where} is unreachable ({type(exc).__name__})"
            ) from None
        access_token = answer.get("access_token") if isinstance(answer, dict) else None
        expires_in = answer.get("expires_in") if isinstance(answer, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise UpstreamUnavailable("Auth0's token endpoint answered without an access token")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 3600.0
        return _Token(value=access_token, expires_at=self._clock() + lifetime)


class _CredentialsRejected(Exception):
    def __init__(self, status: int, error_code: str) -> None:
        super().__init__(status)
        self.status = status
        self.error_code = error_code
