"""Typed errors of the access-token path: bearer parsing, JWKS and token verification.

Each error carries the RFC 6750 ``code`` that ends up in the answer, a ``reason``
for logs and tests, and a public ``message`` that never contains the token, a
URL or anything a caller sent.
"""

from __future__ import annotations

from chalicelib.errors import ServiceError


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


class KeysUnavailable(AccessError):
    """No signing key can be obtained (JWKS unreachable and nothing cached): 503."""

    code = "temporarily_unavailable"
    reason = "jwks_unavailable"

    def __init__(self) -> None:
        super().__init__("the issuer's signing keys cannot be obtained now; retry shortly")


class JwksFetchError(ServiceError):
    """One JWKS download failed; the cache decides whether that matters (last good keys)."""

    code = "jwks_fetch_failed"
