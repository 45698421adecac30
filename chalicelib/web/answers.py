"""The one place where the service's errors and outcomes become HTTP answers."""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Response

from chalicelib.errors import (
    AccessError,
    ConfigurationError,
    InsufficientScope,
    InvalidLoginRequest,
    InvalidRequest,
    InvalidSignInRequest,
    InvalidToken,
    LoginDisabled,
    LoginRefused,
    LoginThrottled,
    MalformedPing,
    NoCredentials,
    PingForbidden,
    PingRejected,
    PingUnauthorized,
    ServiceError,
    SignInUnauthorized,
    UnknownCourse,
    UnknownLesson,
    UnsupportedMediaType,
    UpstreamError,
)

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}
RETRY_AFTER_SECONDS = 60

# The statuses of the errors a caller caused (4xx). Everything else the service raises is "not now": 503.
_CLIENT_ERROR_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (PingUnauthorized, 401),
    (PingForbidden, 403),
    (MalformedPing, 400),
    (PingRejected, 400),
    (UnsupportedMediaType, 415),
    (InvalidLoginRequest, 400),
    (SignInUnauthorized, 401),
    (InvalidSignInRequest, 400),
    (LoginRefused, 401),
    (LoginDisabled, 404),
    (UnknownCourse, 404),
    (UnknownLesson, 404),
)


def client_error_status(error: ServiceError) -> int | None:
    """The 4xx status of an error the caller caused, or None for the service's own trouble."""
    return next((status for kind, status in _CLIENT_ERROR_STATUS if isinstance(error, kind)), None)


def json_answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    merged: dict[str, str | list[str]] = dict(JSON_HEADERS)
    if headers:
        merged.update(headers)
    return Response(body=json.dumps(body, separators=(",", ":")), status_code=status, headers=merged)


def ok(body: dict[str, Any]) -> Response:
    """A 200 JSON answer."""
    return json_answer(200, body)


def redirect(location: str, body: dict[str, Any]) -> Response:
    """A 302 to ``location`` (a URL that expires: never cached, by the browser or anyone between); ``body`` says
    the same in JSON for a client that does not follow redirects."""
    return json_answer(302, body, {"Location": location})


def error_body(code: str, description: str) -> dict[str, Any]:
    """The stable error shape of every 4xx/5xx answer the service writes itself."""
    return {"error": code, "error_description": description}


def ping_error_answer(error: ServiceError) -> Response:
    """Map an error raised while handling a Gumroad ping to its answer.

    4xx answers are final for Gumroad; 503 is one of the statuses it retries
    (499, 500, 502, 503, 504), so every failure that might succeed later is a 503.
    """
    status = client_error_status(error)
    if status is not None:
        return json_answer(status, error_body(error.code, error.message))
    if isinstance(error, UpstreamError | ConfigurationError):
        return json_answer(
            503,
            error_body(error.code, _public_description(error)),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    # Anything else the service raised on purpose is "not now": Gumroad will redeliver.
    return json_answer(503, error_body(error.code, error.message), {"Retry-After": str(RETRY_AFTER_SECONDS)})


def login_error_answer(error: ServiceError) -> Response:
    """``POST /login`` failures: 400/401/404/415 for the caller, 429 passed on, 503 for the service's trouble."""
    status = client_error_status(error)
    if status is not None:
        return json_answer(status, error_body(error.code, error.message))
    if isinstance(error, LoginThrottled):
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        return json_answer(429, error_body(error.code, error.message), headers)
    return json_answer(503, error_body(error.code, _public_description(error)), {"Retry-After": "5"})


def sign_in_error_answer(error: ServiceError) -> Response:
    """``POST /auth0/post-login`` failures: 400/401/415 for the caller, 503 for the service's trouble.

    The Action lets the login go on unchanged whatever it gets but a 200, so no ``Retry-After``.
    """
    status = client_error_status(error)
    if status is not None:
        return json_answer(status, error_body(error.code, error.message))
    return json_answer(503, error_body(error.code, _public_description(error)))


def _public_description(error: ServiceError) -> str:
    if isinstance(error, ConfigurationError):
        # Configuration details go to the log, not to whoever sent the request.
        return "the service is not configured correctly; the operator has been told in the log"
    return error.message


# --- Access -> API: RFC 6750 answers for the private routes ------------------------------------

KEYS_RETRY_AFTER_SECONDS = 15


def bearer_error_answer(error: ServiceError, realm: str, headers: dict[str, str] | None = None) -> Response:
    """Map an error of the access-token path to its RFC 6750 answer.

    No credentials: 401 with a bare ``Bearer realm`` challenge. Malformed request:
    400 ``invalid_request``. Bad token: 401 ``invalid_token``. Missing permission: 403
    ``insufficient_scope`` with ``scope``. No signing key or no configuration: 503.
    ``error_description`` is always one of the service's own fixed texts.

    Parameters
    ----------
    error
        What stopped the request.
    realm
        The protection space named in ``WWW-Authenticate``.
    headers
        Extra headers (CORS) merged into the answer.
    """
    merged = dict(headers or {})
    body = error_body(error.code, error.message)
    if isinstance(error, NoCredentials):
        merged["WWW-Authenticate"] = _bearer_challenge(realm)
        return json_answer(401, body, merged)
    if isinstance(error, InvalidRequest | InvalidToken):
        status = 400 if isinstance(error, InvalidRequest) else 401
        merged["WWW-Authenticate"] = _bearer_challenge(realm, error=error.code, error_description=error.message)
        return json_answer(status, body, merged)
    if isinstance(error, InsufficientScope):
        merged["WWW-Authenticate"] = _bearer_challenge(
            realm, error=error.code, error_description=error.message, scope=error.scope
        )
        return json_answer(403, body, merged)
    client_status = client_error_status(error)
    if client_status is not None:  # 404 for an unknown course, 415 for /verify's body
        return json_answer(client_status, body, merged)
    merged["Retry-After"] = str(KEYS_RETRY_AFTER_SECONDS)
    if isinstance(error, AccessError):
        return json_answer(503, body, merged)
    if isinstance(error, ConfigurationError):
        return json_answer(503, error_body(error.code, _public_description(error)), merged)
    # Anything else the service raised on purpose (InternalError for a bug): its code and fixed text.
    return json_answer(503, error_body(error.code, error.message), merged)


def _bearer_challenge(realm: str, **attributes: str) -> str:
    # RFC 6750 section 3: quoted-string values without '"' or '\'. Ours are fixed texts,
    # but a stray character must never break the header (or turn the answer into a 500).
    parts = [f'realm="{_quotable(realm)}"']
    parts.extend(f'{name}="{_quotable(value)}"' for name, value in attributes.items())
    return "Bearer " + ", ".join(parts)


def _quotable(value: str) -> str:
    return "".join(c for c in value if c not in '"\\' and 0x20 <= ord(c) <= 0x7E)
