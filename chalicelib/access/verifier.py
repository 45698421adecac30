"""Verify Auth0 access tokens: PyJWT checks the signature, this module adds the rules it lacks.

Usable without Chalice. PyJWT decodes the token and checks its signature once; before
that, this module refuses what PyJWT would let through (lenient base64, oversized
tokens, header-supplied keys, unknown ``crit``, odd ``typ``) and picks the key by
``kid``; after it, it checks the claims itself so that a claim of the wrong JSON type
is an ``InvalidToken`` and never a ``TypeError``. Tokens already verified are
remembered, so the same token sent again costs a dictionary lookup and an ``exp`` check.
"""

from __future__ import annotations

import base64
import math
import string
import time
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from jwt import InvalidSignatureError, PyJWTError
from jwt.api_jws import PyJWS

from chalicelib.access.jwks import MAX_KID_LENGTH, SigningKey
from chalicelib.config.access_settings import DEFAULT_LEEWAY_SECONDS, MAX_LEEWAY_SECONDS
from chalicelib.errors import (
    ForbiddenHeader,
    InvalidClaim,
    InvalidSignature,
    KeyAlgorithmMismatch,
    MalformedToken,
    TokenExpired,
    TokenNotYetValid,
    TokenTooLarge,
    UnknownSigningKey,
    UnsupportedAlgorithm,
    UnsupportedTokenType,
)
from chalicelib.strict_json import parse_json

DEFAULT_MAX_TOKEN_BYTES = 8_192
DEFAULT_CACHE_SIZE = 1_024

# Strict compact serialisation: three non-empty base64url segments, no padding, no '+/'.
_BASE64URL = frozenset(string.ascii_letters + string.digits + "-_")
# RFC 9068 section 2.1 asks for "at+jwt"; Auth0 writes "JWT". Media types ignore case.
_ACCEPTED_TYPES = frozenset({"jwt", "at+jwt", "application/jwt", "application/at+jwt"})
# Header parameters that carry or point to a key: trusting them lets the sender pick the key.
_KEY_SOURCES = ("jwk", "jku", "x5u", "x5c")
_HEADER_CACHE_SIZE = 64
# RFC 9068 section 2.2 (jti, client_id, scope, acr; azp from OpenID Connect) and 2.2.3.1 (groups, roles,
# entitlements); amr (RFC 8176) and Auth0's permissions are arrays of strings.
_STRING_CLAIMS = ("jti", "client_id", "azp", "scope", "acr")
_STRING_LIST_CLAIMS = ("permissions", "amr", "groups", "roles", "entitlements")


if TYPE_CHECKING:
    # Typing only: every cold start would otherwise build this Protocol class (docs/internals.md, "Cold start").
    class KeySource(Protocol):
        """Where the verifier gets signing keys (``chalicelib.access.jwks.JwksCache``)."""

        def get_key(self, kid: str) -> SigningKey: ...


# A plain slotted class: every cold start builds it, and a NamedTuple costs about a million instructions to
# generate, ten times a class (docs/internals.md, "Cold start").
class VerifiedToken:
    """An access token whose signature and claims were checked.

    ``permissions`` holds the non-empty entries of the ``permissions`` array (Auth0 RBAC) and
    nothing else. The ``scope`` string grants nothing here: it carries the OIDC scopes (``openid``,
    ``profile``, ...) and, when RBAC is off on the API, any permission the application asked for,
    whoever the user is. Auth0 puts an M2M client's granted scopes in ``permissions`` too once
    "Add Permissions in the Access Token" is on, so machine clients need no ``scope`` reading.
    """

    __slots__ = ("claims", "expires_at", "key_id", "permissions", "subject")

    def __init__(
        self, *, subject: str, expires_at: float, key_id: str, permissions: frozenset[str], claims: Mapping[str, Any]
    ) -> None:
        self.subject = subject
        self.expires_at = expires_at
        self.key_id = key_id
        self.permissions = permissions
        self.claims = claims

    def grants(self, permission: str) -> bool:
        """Whether the token carries ``permission`` exactly (case-sensitive)."""
        return permission in self.permissions


class _Header:
    __slots__ = ("algorithm", "kid")

    def __init__(self, *, algorithm: str, kid: str) -> None:
        self.algorithm = algorithm
        self.kid = kid


class _Remembered:
    __slots__ = ("key", "token", "usable_until")

    def __init__(self, *, token: VerifiedToken, key: SigningKey, usable_until: float) -> None:
        self.token = token
        self.key = key
        self.usable_until = usable_until


class AccessTokenVerifier:
    """Accept exactly the access tokens the configured issuer made for the configured API.

    Parameters
    ----------
    issuer
        Compared exactly with ``iss`` (Auth0's ends with a slash).
    audience
        Must be ``aud`` or one of its entries.
    keys
        Signing keys by ``kid``, usually a ``JwksCache``.
    algorithms
        Allowed ``alg`` values; asymmetric only.
    leeway_seconds
        Clock-skew tolerance for ``exp``, ``nbf`` and ``iat``, at most 60.
    max_token_bytes
        Longer tokens are refused before anything is decoded.
    cache_size
        How many verified tokens to remember (0 disables the cache).
    clock
        Wall-clock seconds since the epoch; injectable for tests.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: KeySource,
        algorithms: Collection[str] = ("RS256",),
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        if not algorithms or any(alg == "none" or alg.startswith("HS") for alg in algorithms):
            raise ValueError("algorithms must be a non-empty list of asymmetric algorithms")
        if not 0 <= leeway_seconds <= MAX_LEEWAY_SECONDS:
            raise ValueError(f"leeway_seconds must be between 0 and {MAX_LEEWAY_SECONDS}")
        self._issuer = issuer
        self._audience = audience
        self._keys = keys
        self._algorithms = frozenset(algorithms)
        self._leeway = leeway_seconds
        self._max_token_bytes = max_token_bytes
        self._cache_size = cache_size
        self._clock = clock
        self._jws = PyJWS(
            algorithms=sorted(self._algorithms),
            options={"verify_signature": True, "enforce_minimum_key_length": True},
        )
        self._verified: dict[str, _Remembered] = {}
        self._headers: dict[str, _Header] = {}

    def verify(self, token: str) -> VerifiedToken:
        """Verify ``token`` and return what it grants.

        Raises
        ------
        InvalidToken
            A subclass naming the reason (malformed, expired, bad signature, ...).
        KeysUnavailable
            No signing key can be obtained; the token may well be valid.
        """
        if not isinstance(token, str):
            raise MalformedToken()
        remembered = self._verified.get(token)
        if remembered is not None:
            known = self._recall(token, remembered)
            if known is not None:
                return known
        verified, key = self._verify_fully(token)
        self._remember(token, verified, key)
        return verified

    @property
    def remembered_tokens(self) -> int:
        """How many verified tokens are cached now (for monitoring and tests)."""
        return len(self._verified)

    def clear_caches(self) -> None:
        """Forget verified tokens and parsed headers."""
        self._verified.clear()
        self._headers.clear()

    # --- the cache of verified tokens -----------------------------------------------------------

    def _recall(self, token: str, remembered: _Remembered) -> VerifiedToken | None:
        if self._clock() >= remembered.usable_until:
            self._verified.pop(token, None)
            raise TokenExpired()
        try:
            current = self._keys.get_key(remembered.token.key_id)
        except UnknownSigningKey:
            # The key left the JWKS: tokens it signed stop working with it.
            self._verified.pop(token, None)
            raise
        if current is not remembered.key:
            # Same kid, new key material: check the signature again.
            self._verified.pop(token, None)
            return None
        return remembered.token

    def _remember(self, token: str, verified: VerifiedToken, key: SigningKey) -> None:
        if self._cache_size <= 0:
            return
        while len(self._verified) >= self._cache_size:
            # Oldest first: tokens of one tenant share a lifetime, so this is also soonest-expiring.
            oldest = next(iter(self._verified), None)
            if oldest is None:
                break
            self._verified.pop(oldest, None)
        self._verified[token] = _Remembered(token=verified, key=key, usable_until=verified.expires_at + self._leeway)

    # --- full verification ----------------------------------------------------------------------

    def _verify_fully(self, token: str) -> tuple[VerifiedToken, SigningKey]:
        if len(token) > self._max_token_bytes:
            raise TokenTooLarge()
        if not _is_compact_jws(token):
            raise MalformedToken()
        header = self._header(token[: token.index(".")])
        key = self._keys.get_key(header.kid)
        prepared = key.for_algorithm(header.algorithm)
        if prepared is None:
            raise KeyAlgorithmMismatch()
        try:
            decoded = self._jws.decode_complete(token, key=prepared, algorithms=[header.algorithm])
        except InvalidSignatureError:
            raise InvalidSignature() from None
        except (PyJWTError, ValueError, TypeError, OverflowError, RecursionError):
            # PyJWT found the encoding or the header unacceptable.
            raise MalformedToken() from None
        claims = _json_object(decoded["payload"], "the token payload is not a JSON object")
        return self._check_claims(claims, header.kid), key

    def _header(self, segment: str) -> _Header:
        # Tokens of one tenant share a handful of headers: parse each once.
        known = self._headers.get(segment)
        if known is not None:
            return known
        header = self._parse_header(segment)
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()
        self._headers[segment] = header
        return header

    def _parse_header(self, segment: str) -> _Header:
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except ValueError:
            raise MalformedToken() from None
        header = _json_object(raw, "the token header is not a JSON object")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise UnsupportedAlgorithm()
        typ = header.get("typ", "JWT")
        if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES:
            raise UnsupportedTokenType()
        for parameter in _KEY_SOURCES:
            if parameter in header:
                raise ForbiddenHeader(parameter)
        if "crit" in header:
            # No extension is understood here, so every critical one must be refused.
            raise ForbiddenHeader("crit")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
            raise MalformedToken("the token header has no usable key id (kid)")
        return _Header(algorithm=algorithm, kid=kid)

    def _check_claims(self, claims: dict[str, Any], kid: str) -> VerifiedToken:
        now = self._clock()
        expires_at = _time_claim(claims, "exp")
        if now >= expires_at + self._leeway:
            raise TokenExpired()
        if _time_claim(claims, "iat") > now + self._leeway:
            raise TokenNotYetValid("iat")
        if "nbf" in claims and _time_claim(claims, "nbf") > now + self._leeway:
            raise TokenNotYetValid("nbf")
        issuer = claims.get("iss")
        if not isinstance(issuer, str):
            raise InvalidClaim("iss", "is missing or not a string")
        if issuer != self._issuer:
            raise InvalidClaim("iss", "does not name the expected issuer")
        self._check_audience(claims.get("aud"))
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidClaim("sub", "is missing or not a non-empty string")
        _check_optional_claim_types(claims)
        return VerifiedToken(
            subject=subject,
            expires_at=expires_at,
            key_id=kid,
            permissions=_granted_permissions(claims),
            claims=MappingProxyType(claims),
        )

    def _check_audience(self, audience: Any) -> None:
        if isinstance(audience, str):
            matches = audience == self._audience
        elif isinstance(audience, list) and audience and all(isinstance(entry, str) for entry in audience):
            matches = self._audience in audience
        else:
            raise InvalidClaim("aud", "is missing or not a string or a list of strings")
        if not matches:
            raise InvalidClaim("aud", "does not name this API")


def _is_compact_jws(token: str) -> bool:
    # A character set, not a regular expression: a cold start would compile one (docs/internals.md, "Cold start").
    segments = token.split(".")
    return len(segments) == 3 and all(segment and _BASE64URL.issuperset(segment) for segment in segments)


def _json_object(raw: bytes, problem: str) -> dict[str, Any]:
    try:
        value = parse_json(raw)
    except ValueError:
        raise MalformedToken(problem) from None
    if not isinstance(value, dict):
        raise MalformedToken(problem)
    return value


def _time_claim(claims: Mapping[str, Any], name: str) -> float:
    if name not in claims:
        raise InvalidClaim(name, "is missing")
    value = claims[name]
    # Exact types: bool is an int subclass, None and strings are no time, and a float
    # must be finite (1e400 parses to inf). Huge ints compare exactly, without overflow.
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return value
    raise InvalidClaim(name, "must be a number of seconds")


def _check_optional_claim_types(claims: Mapping[str, Any]) -> None:
    """Claims RFC 9068 (or this verifier, for ``permissions``) gives a JSON type must have it when present.

    A token that says ``jti: 123`` or ``scope: ["a"]`` was not made by Auth0 for this API, whatever its
    signature says about who signed it: it is refused rather than half-read.
    """
    for name in _STRING_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise InvalidClaim(name, "must be a string")
    for name in _STRING_LIST_CLAIMS:
        if name in claims and not _is_string_list(claims[name]):
            raise InvalidClaim(name, "must be a list of strings")
    if "auth_time" in claims:
        _time_claim(claims, "auth_time")


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(entry, str) for entry in value)


def _granted_permissions(claims: Mapping[str, Any]) -> frozenset[str]:
    permissions = claims.get("permissions")
    if not isinstance(permissions, list):
        return frozenset()
    return frozenset(entry for entry in permissions if isinstance(entry, str) and entry)
