"""The service's error types: each layer raises its own, `http_answers` maps them to HTTP."""

from __future__ import annotations

import traceback


class ServiceError(Exception):
    """Base of every error the service raises on purpose.

    ``code`` is a stable, machine-readable identifier that appears in the JSON
    body of the HTTP answer; ``str(error)`` is a human-readable description
    that never contains secrets, tokens, URLs with credentials or e-mail
    addresses.
    """

    code = "service_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(ServiceError):
    """A setting, the catalogue or the secret is missing or invalid."""

    code = "service_misconfigured"


class PingRejected(ServiceError):
    """A Gumroad ping that is refused before any work is done (a 4xx answer)."""

    code = "ping_rejected"
    status = 400


class PingUnauthorized(PingRejected):
    code = "unauthorized"
    status = 401


class PingForbidden(PingRejected):
    code = "forbidden"
    status = 403


class MalformedPing(PingRejected):
    code = "malformed_ping"
    status = 400


class UnsupportedMediaType(PingRejected):
    code = "unsupported_media_type"
    status = 415


class UpstreamError(ServiceError):
    """Auth0 or AWS could not complete the work now; retrying the ping is safe."""

    code = "upstream_unavailable"


class UpstreamUnavailable(UpstreamError):
    """A transient failure: throttling, a 5xx, a timeout or the deadline ran out."""


class UpstreamRejected(UpstreamError):
    """Auth0 refused the request for a reason a retry alone will not fix.

    Examples: the catalogue names a role that does not exist, or the M2M
    application lacks a scope. Work stays safe to retry once an operator
    fixes the cause, so a ping still answers 503 rather than losing the
    purchase.
    """

    code = "upstream_rejected"


class LoginRejected(ServiceError):
    """Auth0 refused the credentials (401) or the request is malformed (400)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class LoginThrottled(ServiceError):
    """Auth0's brute-force protection or rate limit said "not now" (429, passed on)."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LoginDisabled(ServiceError):
    code = "login_disabled"


class InternalError(ServiceError):
    """Something the service did not foresee: a bug. Answered 503 on the ping route so nothing is lost."""

    code = "internal_error"

    def __init__(self, message: str = "the service failed unexpectedly; retry later") -> None:
        super().__init__(message)


def describe_failure(error: BaseException) -> str:
    """``TypeError at chalicelib/x.py:12 in f``: where an unexpected exception came from, without its message.

    Exception messages may quote the request (an address, a token), so logs name the type and the
    innermost frame of the service's own code only.
    """
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    where = ([frame for frame in frames if "/chalicelib/" in frame.filename] or frames)[-1]
    path = where.filename
    short = "chalicelib/" + path.rsplit("/chalicelib/", 1)[1] if "/chalicelib/" in path else path.rsplit("/", 1)[-1]
    return f"{type(error).__name__} at {short}:{where.lineno} in {where.name}"
