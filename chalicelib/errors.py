"""Every exception the service raises on purpose, by path; ``chalicelib.web.answers`` maps each error to HTTP.

Errors carry a stable ``code`` (the JSON answer's ``error``) and a ``message`` that is safe to show: never a
secret, a token, a URL with credentials or an e-mail address. They say nothing about HTTP statuses. The
few exceptions that are signals between the service's own parts, not errors for a caller, are here too;
only an exception a module raises and catches itself (``_Private``) stays in that module.
"""

from __future__ import annotations

from chalicelib.logs import mask_url_passwords


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


class UnsupportedMediaType(ServiceError):
    """A body of a content type the route does not read (pings, ``/login``, ``/verify``)."""

    code = "unsupported_media_type"


# --- Purchase -> access: pings, queue, reconciliation --------------------------------------------


class PingRejected(ServiceError):
    """A Gumroad ping that is refused before any work is done: final for Gumroad."""

    code = "ping_rejected"


class PingUnauthorized(PingRejected):
    code = "unauthorized"


class PingForbidden(PingRejected):
    code = "forbidden"


class MalformedPing(PingRejected):
    code = "malformed_ping"


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


class PurchaseNotYetKnown(UpstreamError):
    """A refund or dispute for a buyer Auth0 does not know yet: its sale may still be on its way."""

    code = "purchase_not_yet_known"


class MalformedMessage(ServiceError):
    """A queue message this version of the service cannot read: dead-lettered, never retried."""

    code = "malformed_message"


class BuyerBusy(UpstreamUnavailable):
    """Another event of this buyer kept the lock until the deadline: retrying later is safe."""


class InlineBusy(UpstreamUnavailable):
    """Earlier pings keep Auth0's rate busy past this ping's deadline: retrying later is safe."""


class ReconciliationIncomplete(ServiceError):
    """A run could not send every event: the watermark stays where it was, and the next run sends them."""

    code = "reconciliation_incomplete"


# --- signals between the purchase path's parts (never an answer as they are) ---------------------


class InvalidEmail(ValueError):
    """An address Auth0 can never hold; ``reason`` is a short, stable code for logs (the ping is ignored for review)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BuyerAlreadyExists(Exception):
    """``create_buyer`` found the address taken: another delivery created this buyer a moment ago."""


class RetryLater(Exception):
    """Raised to make Lambda report the queue message as failed: SQS delivers it again later."""


# --- POST /login ---------------------------------------------------------------------------------


class InvalidLoginRequest(ServiceError):
    """The body is not ``{"username": <text>, "password": <text>}``."""

    code = "invalid_request"


class LoginRefused(ServiceError):
    """Auth0 refused these credentials; ``code`` says why (``invalid_credentials``, ``mfa_required``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class LoginThrottled(ServiceError):
    """Auth0's brute-force protection or rate limit said "not now" (429, passed on)."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LoginDisabled(ServiceError):
    code = "login_disabled"


# --- POST /auth0/post-login: the post-login Action asks what a sign-in means -------------------------


class SignInUnauthorized(ServiceError):
    """The request does not carry the Action's shared secret (``Authorization: Bearer``): 401, nothing read."""

    code = "unauthorized"


class InvalidSignInRequest(ServiceError):
    """The body is not ``{"user_id": <an Auth0 user id>}``."""

    code = "invalid_request"


class GumroadApiError(ServiceError):
    """Gumroad's API refused or failed a request; the message never carries the token or a ping secret."""

    code = "gumroad_api_error"

    def __init__(self, message: str) -> None:
        super().__init__(mask_url_passwords(message))


class InternalError(ServiceError):
    """Something the service did not foresee: a bug. Answered 503 on the ping route so nothing is lost."""

    code = "internal_error"

    def __init__(self, message: str = "the service failed unexpectedly; retry later") -> None:
        super().__init__(message)


# --- Access -> API: Bearer tokens, their verification and the signing keys (RFC 6750) -----------


class AccessError(ServiceError):
    """Base of every error that stops a request on a private route."""

    code = "access_denied"
    reason = "access_denied"


# --- RFC 6750 section 3.1: the request itself --------------------------------------------------


class NoCredentials(AccessError):
    """No Bearer credentials were sent (no header, or another scheme): 401 without ``error``."""

    code = "unauthorized"
    reason = "no_credentials"

    def __init__(self, message: str = "a Bearer access token is required") -> None:
        super().__init__(message)


class InvalidRequest(AccessError):
    """A malformed Authorization header, an empty Bearer, several credentials: 400."""

    code = "invalid_request"
    reason = "invalid_request"


# --- the token ----------------------------------------------------------------------------------


class InvalidToken(AccessError):
    """The token is not acceptable, whatever the cause: 401 ``invalid_token``."""

    code = "invalid_token"
    reason = "invalid_token"


class MalformedToken(InvalidToken):
    reason = "malformed"

    def __init__(self, message: str = "the access token is malformed") -> None:
        super().__init__(message)


class TokenTooLarge(MalformedToken):
    reason = "too_large"

    def __init__(self) -> None:
        super().__init__("the access token is too large")


class UnsupportedTokenType(InvalidToken):
    reason = "unsupported_typ"

    def __init__(self) -> None:
        super().__init__("the token type (typ) is not an access token type this API accepts")


class UnsupportedAlgorithm(InvalidToken):
    reason = "unsupported_alg"

    def __init__(self) -> None:
        super().__init__("the token's signing algorithm is not accepted")


class ForbiddenHeader(InvalidToken):
    """The header names a key source (jwk, jku, x5u, x5c) or a critical extension."""

    reason = "forbidden_header"

    def __init__(self, parameter: str) -> None:
        # ``parameter`` is one of a fixed set of names, never caller data.
        super().__init__(f"the token header parameter {parameter} is not accepted")
        self.parameter = parameter


class UnknownSigningKey(InvalidToken):
    reason = "unknown_kid"

    def __init__(self) -> None:
        super().__init__("the token was not signed by a current key of the issuer")


class KeyAlgorithmMismatch(InvalidToken):
    reason = "key_alg_mismatch"

    def __init__(self) -> None:
        super().__init__("the token's algorithm does not match its signing key")


class InvalidSignature(InvalidToken):
    reason = "bad_signature"

    def __init__(self) -> None:
        super().__init__("the token signature is invalid")


class TokenExpired(InvalidToken):
    reason = "expired"

    def __init__(self) -> None:
        super().__init__("the access token has expired")


class TokenNotYetValid(InvalidToken):
    reason = "not_yet_valid"

    def __init__(self, claim: str) -> None:
        super().__init__(f"the access token is not valid yet ({claim})")
        self.claim = claim


class InvalidClaim(InvalidToken):
    """A registered claim is missing, of the wrong type, or names another issuer or audience."""

    reason = "invalid_claim"

    def __init__(self, claim: str, problem: str) -> None:
        super().__init__(f"the token's {claim} claim {problem}")
        self.claim = claim


# --- authorization ------------------------------------------------------------------------------


class InsufficientScope(AccessError):
    """A valid token without the permission the resource needs: 403."""

    code = "insufficient_scope"
    reason = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__("the access token does not grant this course")
        self.scope = scope


# --- keys ---------------------------------------------------------------------------------------


class UnknownCourse(ServiceError):
    """No catalogue course has this slug (told only after the token checks out)."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__("no course has this slug")


class UnknownLesson(ServiceError):
    """The course has no lesson with this id (told only after the token opens the course)."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__("the course has no lesson with this id")


class ContentUnavailable(AccessError):
    """A lesson's URL cannot be signed now (no AWS credentials in the environment, say): 503, no URL."""

    code = "temporarily_unavailable"
    reason = "content_unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__("the course's content cannot be opened now; retry shortly")
        self.detail = detail  # for the log: what botocore raised, by type


class KeysUnavailable(AccessError):
    """No signing key can be obtained (JWKS unreachable and nothing cached): 503."""

    code = "temporarily_unavailable"
    reason = "jwks_unavailable"

    def __init__(self) -> None:
        super().__init__("the issuer's signing keys cannot be obtained now; retry shortly")


class JwksFetchError(ServiceError):
    """One JWKS download failed; the cache decides whether that matters (last good keys)."""

    code = "jwks_fetch_failed"
