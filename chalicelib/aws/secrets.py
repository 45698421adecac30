"""Secrets Manager through boto3: the service's JSON secret, re-read once per TTL, kept through outages."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from chalicelib.credentials import ServiceCredentials, parse_secret
from chalicelib.errors import ConfigurationError, UpstreamUnavailable
from chalicelib.logs import log_event

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

log = logging.getLogger("gumroad_auth0.credentials")

TRANSIENT_AWS_CODES = frozenset(
    {
        "ThrottlingException",
        "InternalServiceError",
        "ServiceUnavailable",
        "RequestTimeout",
        "TooManyRequestsException",
    }
)
# After Auth0 rejects the credentials we re-read the secret, but not more often than this,
# so a wrong secret does not turn every ping into a Secrets Manager call.
MIN_SECONDS_BETWEEN_FORCED_REFRESHES = 30.0
RETRY_AFTER_FAILED_REFRESH_SECONDS = 30.0


def secrets_manager_client() -> SecretsManagerClient:
    import boto3

    return boto3.client("secretsmanager")


class SecretsManagerCredentials:
    """Reads the JSON secret once per TTL per warm container; keeps the last good value.

    A refresh that fails for a transient reason (throttling, a 5xx) keeps serving the
    previous value: an AWS hiccup must not stop purchases that the old credentials can
    still fulfil.
    """

    def __init__(
        self,
        *,
        client_factory: Callable[[], SecretsManagerClient],
        secret_id: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self._client: SecretsManagerClient | None = None
        self._secret_id = secret_id
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._value: ServiceCredentials | None = None
        self._fetched_at = 0.0
        self._forced_at: float | None = None

    def get(self) -> ServiceCredentials:
        with self._lock:
            now = self._clock()
            if self._value is not None and now - self._fetched_at < self._ttl:
                return self._value
            try:
                self._value = self._fetch()
            except UpstreamUnavailable:
                if self._value is None:
                    raise
                log_event(log, logging.WARNING, "secret_refresh_failed", kept_last_good=True)
                # Try again in a little while, not on every ping: that would prolong the throttling.
                self._fetched_at = now - self._ttl + min(self._ttl, RETRY_AFTER_FAILED_REFRESH_SECONDS)
                return self._value
            self._fetched_at = now
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            now = self._clock()
            if self._forced_at is not None and now - self._forced_at < MIN_SECONDS_BETWEEN_FORCED_REFRESHES:
                return
            self._forced_at = now
            self._fetched_at = float("-inf")

    def _fetch(self) -> ServiceCredentials:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._client is None:
            self._client = self._client_factory()
        try:
            response = self._client.get_secret_value(SecretId=self._secret_id)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code in TRANSIENT_AWS_CODES:
                raise UpstreamUnavailable(f"Secrets Manager is unavailable ({code})") from None
            log_event(log, logging.ERROR, "secret_unreadable", variable="AUTH0_SECRET_ID", aws_error=code)
            raise ConfigurationError(f"the secret named by AUTH0_SECRET_ID cannot be read ({code})") from None
        except BotoCoreError as exc:
            raise UpstreamUnavailable(f"Secrets Manager is unreachable ({type(exc).__name__})") from None
        return parse_secret(response.get("SecretString"))
