"""``POST /login``: username + password -> access token, through Auth0's password-realm grant.

For scripts and command-line tools only: browsers should use Universal Login, where Auth0
sees the user's own connection, MFA and bot detection. The caller's IP is forwarded
(``auth0-forwarded-for``) so Auth0's brute-force protection counts the real client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error, RateLimitError

from chalicelib.access.password_grant import PasswordCredentials
from chalicelib.config.purchase_settings import Auth0Endpoint
from chalicelib.errors import ConfigurationError, LoginRefused, LoginThrottled, ServiceError, UpstreamUnavailable
from chalicelib.logs import log_event

log = logging.getLogger("gumroad_auth0.login")

LOGIN_TIMEOUT_SECONDS = 5.0


# Auth0's error codes for the password grant, mapped to this API's stable codes (all answered 401).
# "unauthorized" is the user's own refusal (a blocked user). "access_denied", "unauthorized_client"
# and "invalid_client" mean the login application itself is refused (wrong client secret, unknown
# audience, password grant not enabled): the operator's problem, a ConfigurationError below.
_REFUSALS: Mapping[str, tuple[str, str]] = {
    "invalid_grant": ("invalid_credentials", "wrong username or password"),
    "invalid_user_password": ("invalid_credentials", "wrong username or password"),
    "unauthorized": ("access_denied", "this account may not sign in"),
    "mfa_required": ("mfa_required", "this account needs multi-factor authentication: use Universal Login"),
    "password_leaked": ("password_leaked", "this password must be changed before signing in"),
    "requires_verification": ("requires_verification", "Auth0 needs to verify this sign-in: use Universal Login"),
}


class PasswordLogin:
    """Exchanges a username and password for an access token to this API (``access.password_grant``'s port)."""

    def __init__(
        self,
        *,
        endpoint: Auth0Endpoint,
        client_id: str,
        client_secret: Callable[[], str],
        realm: str,
        audience: str,
    ) -> None:
        self._endpoint = endpoint
        self._client_id = client_id
        self._client_secret = client_secret
        self._realm = realm
        self._audience = audience

    def login(self, credentials: PasswordCredentials, *, client_ip: str | None) -> dict[str, Any]:
        client = GetToken(
            self._endpoint.netloc,
            self._client_id,
            client_secret=self._client_secret(),
            protocol=self._endpoint.scheme,
            timeout=LOGIN_TIMEOUT_SECONDS,
            telemetry=False,
        )
        try:
            answer = client.login(
                username=credentials.username,
                password=credentials.password,
                realm=self._realm,
                audience=self._audience,
                scope="openid",
                forwarded_for=client_ip,
            )
        except RateLimitError as exc:
            raise LoginThrottled("Auth0 is rate limiting sign-ins; retry later", _retry_after(exc.headers)) from None
        except Auth0Error as exc:
            raise _mapped(exc) from None
        except requests.RequestException as exc:
            raise UpstreamUnavailable(f"Auth0 is unreachable ({type(exc).__name__})") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise UpstreamUnavailable("Auth0 answered without an access token")
        body = {"access_token": answer["access_token"], "token_type": answer.get("token_type", "Bearer")}
        for optional in ("expires_in", "scope"):
            if optional in answer:
                body[optional] = answer[optional]
        return body


def _mapped(error: Auth0Error) -> ServiceError:
    code = str(error.error_code or "")
    if error.status_code == 429 or code == "too_many_attempts":
        return LoginThrottled("too many attempts; retry later", _retry_after(error.headers))
    if code in _REFUSALS:
        return LoginRefused(*_REFUSALS[code])
    if error.status_code >= 500:
        log_event(log, logging.ERROR, "login_grant_failed", status=error.status_code, error=code)
        return UpstreamUnavailable("Auth0 could not sign in now; retry later")
    # The login application itself was refused (wrong client secret, unknown audience, grant not
    # enabled): the caller can do nothing about it, the operator can (the route logs this message).
    return ConfigurationError(
        f"Auth0 refused the login application ({error.status_code} {code[:64]}): check AUTH0_LOGIN_CLIENT_ID and "
        "its secret, AUTH0_AUDIENCE, and that the application has the Password grant and AUTH0_CONNECTION enabled"
    )


def _retry_after(headers: Any) -> int | None:
    if not headers:
        return None
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
        return int(float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
