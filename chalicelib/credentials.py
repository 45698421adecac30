"""The service's secrets (M2M client, ping secret, ...): their shape, their source, and the environment's.

The Secrets Manager source is in ``chalicelib.aws.secrets``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.config.purchase_settings import EnvironmentCredentials
from chalicelib.errors import ConfigurationError
from chalicelib.logs import log_event

if TYPE_CHECKING:
    pass

log = logging.getLogger("gumroad_auth0.credentials")

_REQUIRED = ("client_id", "client_secret", "gumroad_ping_secret")


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
    post_login_secret: str | None = None
    """The secret the post-login Action presents (its ``POST_LOGIN_SECRET``) on ``POST /auth0/post-login``."""

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
            post_login_secret=environment.post_login_secret,
        )

    def get(self) -> ServiceCredentials:
        return self._credentials

    def invalidate(self) -> None:
        return None


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
        post_login_secret=_optional_key(document, "post_login_secret"),
        client_id=document["client_id"].strip(),
        client_secret=document["client_secret"].strip(),
        gumroad_ping_secrets=tuple(secrets),
        login_client_secret=login_secret.strip() if isinstance(login_secret, str) and login_secret.strip() else None,
    )


def _optional_key(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None
