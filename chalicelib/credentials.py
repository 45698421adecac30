"""The service's secrets (M2M client and ping secret): Secrets Manager with a TTL, or the environment."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.config import EnvironmentCredentials
from chalicelib.errors import ConfigurationError, UpstreamUnavailable
from chalicelib.logs import log_event

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

log = logging.getLogger("gumroad_auth0.credentials")

_REQUIRED = ("client_id", "client_secret", "gumroad_ping_secret")
_TRANSIENT_AWS_CODES = frozenset(
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


@dataclass(frozen=True)
class ServiceCredentials:
    client_id: str
    client_secret: str
    gumroad_ping_secrets: tuple[str, ...]
    """The current ping secret first; a previous one is accepted while a rotation is under way."""
    login_client_secret: str | None = None
    """Secret of the application ``POST /login`` uses, when that route is enabled."""
    gumroad_access_token: str | None = None
    """An OAuth token of the seller's Gumroad application (``view_sales``), for the scheduled reconciliation."""

    def __repr__(self) -> str:
        return f"ServiceCredentials(client_id={self.client_id!r}, secrets=<redacted>)"


class CredentialsSource(Protocol):
    def get(self) -> ServiceCredentials: ...

    def invalidate(self) -> None:
        """Forget the cached value (Auth0 rejected it: it may have been rotated)."""


class StaticCredentials:
    """Credentials from the environment, for local development."""

    def __init__(self, environment: EnvironmentCredentials) -> None:
        if not (environment.client_id and environment.client_secret and environment.gumroad_ping_secret):
            raise ConfigurationError(
                "AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and GUMROAD_PING_SECRET must be set when AUTH0_SECRET_ID is unset"
            )
        self._credentials = ServiceCredentials(
            client_id=environment.client_id,
            client_secret=environment.client_secret,
            gumroad_ping_secrets=(environment.gumroad_ping_secret,),
        )

    def get(self) -> ServiceCredentials:
        return self._credentials

    def invalidate(self) -> None:
        return None


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
            if code in _TRANSIENT_AWS_CODES:
                raise UpstreamUnavailable(f"Secrets Manager is unavailable ({code})") from None
            log_event(log, logging.ERROR, "secret_unreadable", variable="AUTH0_SECRET_ID", aws_error=code)
            raise ConfigurationError(f"the secret named by AUTH0_SECRET_ID cannot be read ({code})") from None
        except BotoCoreError as exc:
            raise UpstreamUnavailable(f"Secrets Manager is unreachable ({type(exc).__name__})") from None
        return parse_secret(response.get("SecretString"))


def parse_secret(secret_string: Any) -> ServiceCredentials:
    """Validate the secret's JSON; messages name the keys, never the values."""
    problem = "the secret named by AUTH0_SECRET_ID must be a JSON object with " + ", ".join(_REQUIRED)
    if not isinstance(secret_string, str):
        log_event(log, logging.ERROR, "secret_invalid", problem="no SecretString (binary secrets are not supported)")
        raise ConfigurationError(problem)
    try:
        document = json.loads(secret_string)
    except json.JSONDecodeError:
        log_event(log, logging.ERROR, "secret_invalid", problem="not valid JSON")
        raise ConfigurationError(problem) from None
    if not isinstance(document, dict):
        log_event(log, logging.ERROR, "secret_invalid", problem="JSON but not an object")
        raise ConfigurationError(problem)
    missing = [key for key in _REQUIRED if not isinstance(document.get(key), str) or not document[key].strip()]
    if missing:
        log_event(log, logging.ERROR, "secret_invalid", problem="missing keys", missing=missing)
        raise ConfigurationError(f"the secret named by AUTH0_SECRET_ID lacks {', '.join(missing)}")
    secrets = [document["gumroad_ping_secret"].strip()]
    previous = document.get("gumroad_ping_secret_previous")
    if isinstance(previous, str) and previous.strip():
        secrets.append(previous.strip())
    login_secret = document.get("login_client_secret")
    return ServiceCredentials(
        gumroad_access_token=_optional_key(document, "gumroad_access_token"),
        client_id=document["client_id"].strip(),
        client_secret=document["client_secret"].strip(),
        gumroad_ping_secrets=tuple(secrets),
        login_client_secret=login_secret.strip() if isinstance(login_secret, str) and login_secret.strip() else None,
    )


def _optional_key(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None
