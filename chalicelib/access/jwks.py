"""The issuer's signing keys: fetched rarely, never in storms, kept through outages.

``JwksCache`` hands out the key for a ``kid``. It fetches the JWKS once per warm
container, again when the set is older than its max age, and on an unknown
``kid`` at most once per cooldown; concurrent misses share one fetch. When a
refresh fails the last good set stays in use. ``UrllibJwksFetcher`` does the
HTTP part: no redirects, a timeout, a body cap and one retry on a network error.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from jwt import PyJWK, PyJWTError
from jwt.algorithms import get_default_algorithms

from chalicelib.errors import JwksFetchError, KeysUnavailable, UnknownSigningKey
from chalicelib.logs import log_event

DEFAULT_COOLDOWN_SECONDS = 15.0
DEFAULT_MAX_AGE_SECONDS = 600.0
DEFAULT_TIMEOUT_SECONDS = 1.5
DEFAULT_MAX_BYTES = 150_000  # API Gateway's JWT authorizer caps the JWKS at this size
MAX_KID_LENGTH = 256

_LOG = logging.getLogger("gumroad_auth0.access")

_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_CURVE_ALGORITHM = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_OKP_CURVES = frozenset({"Ed25519", "Ed448"})
# A JWKS entry with any of these is a private or symmetric key: never a verification key.
_SECRET_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_STRING_MEMBERS = ("kid", "kty", "use", "alg", "crv", "n", "e", "x", "y")


if TYPE_CHECKING:
    # Typing only: every cold start would otherwise build this Protocol class (docs/internals.md, "Cold start").
    class JwksFetcher(Protocol):
        """Downloads a JWKS document; raises ``JwksFetchError`` when it cannot."""

        def __call__(self, url: str) -> bytes: ...


# Plain classes, not dataclasses: a cold start builds them, and on Python 3.11 generating a frozen
# dataclass's methods costs about a millisecond per class (docs/internals.md, "Cold start").
class SigningKey:
    """One verification key of the JWKS, bound to the algorithms it may verify (compared by identity)."""

    __slots__ = ("by_algorithm", "kid")

    def __init__(self, *, kid: str, by_algorithm: Mapping[str, PyJWK]) -> None:
        self.kid = kid
        self.by_algorithm = by_algorithm

    def for_algorithm(self, algorithm: str) -> PyJWK | None:
        """The key prepared for ``algorithm``, or None when the JWK does not allow it."""
        return self.by_algorithm.get(algorithm)


class _KeySet:
    __slots__ = ("fetched_at", "keys")

    def __init__(self, *, keys: Mapping[str, SigningKey], fetched_at: float) -> None:
        self.keys = keys
        self.fetched_at = fetched_at


class UrllibJwksFetcher:
    """Fetch a JWKS with the standard library: no redirects, bounded time and size, one retry.

    Not ``requests``: on a cold Lambda container ``requests`` and urllib3 cost about as much to import
    as all the rest of a private route's first request, while PyJWT already loads ``urllib.request``.
    One GET with these rules is all the JWKS needs.

    Parameters
    ----------
    timeout_seconds
        Budget of one attempt, connection and body together.
    max_bytes
        Larger bodies (after decompression) are refused without being read whole.
    attempts
        Attempts in total; only network errors (connect, timeout, reset) are retried.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        attempts: int = 2,
    ) -> None:
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._attempts = max(1, attempts)
        # Only what one GET over http(s) needs: a redirect could point key discovery anywhere, so the
        # opener refuses them all; no file:, ftp: or data: handlers (and each handler costs a cold start).
        self._opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.ProxyHandler(),
            urllib.request.UnknownHandler(),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPSHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            _RefuseRedirects(),
            urllib.request.HTTPErrorProcessor(),
        ):
            self._opener.add_handler(handler)

    def __call__(self, url: str) -> bytes:
        problem = "no attempt made"
        for _ in range(self._attempts):
            try:
                return self._get(url)
            except (OSError, http.client.HTTPException) as exc:
                # URLError, timeouts, resets and broken HTTP are network errors: worth one more try.
                problem = f"network error ({type(exc).__name__})"
        raise JwksFetchError(problem)

    def _get(self, url: str) -> bytes:
        deadline = time.monotonic() + self._timeout
        request = urllib.request.Request(url, headers={"Accept": "application/json", "Accept-Encoding": "gzip"})  # noqa: S310 - the configured https (or loopback http) JWKS URL
        try:
            response = self._opener.open(request, timeout=self._timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise JwksFetchError(f"HTTP status {exc.code}") from None
        with response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise JwksFetchError(f"body larger than {self._max_bytes} bytes")
            gzipped = response.headers.get("Content-Encoding", "").strip().lower() == "gzip"
            return self._read_capped(response, deadline, gzipped=gzipped)

    def _read_capped(self, response: http.client.HTTPResponse, deadline: float, *, gzipped: bool) -> bytes:
        # The cap bounds the decompressed size, so a small gzip bomb is refused like a large body.
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                # A server dripping bytes would otherwise reset the read timeout forever.
                raise TimeoutError("JWKS body not received in time")
            # read1 returns what has arrived, so the deadline is checked between bytes.
            raw = response.read1(16_384)
            if not raw:
                if inflate is not None:
                    chunks.append(inflate.flush())
                return b"".join(chunks)
            chunk = inflate.decompress(raw, self._max_bytes + 1 - size) if inflate is not None else raw
            size += len(chunk)
            if size > self._max_bytes or (inflate is not None and inflate.unconsumed_tail):
                raise JwksFetchError(f"body larger than {self._max_bytes} bytes")
            chunks.append(chunk)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx then surfaces as an HTTPError with its status


def parse_jwks(body: bytes, *, algorithms: Collection[str]) -> dict[str, SigningKey]:
    """The usable verification keys of a JWKS document, by ``kid``.

    Entries that cannot verify one of ``algorithms`` (encryption keys, symmetric or
    private keys, keys whose ``alg``/``kty``/``crv`` disagree, keys below the minimum
    size) are skipped; a document without any usable key is an error, so that a broken
    answer never replaces a good set.

    Raises
    ------
    JwksFetchError
        When the body is not a JWKS or holds no usable key.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise JwksFetchError("the JWKS is not valid JSON") from exc
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksFetchError('the JWKS has no "keys" list')
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        key = _signing_key(entry, algorithms)
        # The first entry wins a duplicated kid: a later one must not shadow it silently.
        if key is not None and key.kid not in keys:
            keys[key.kid] = key
    if not keys:
        raise JwksFetchError("the JWKS holds no usable signature key")
    return keys


def _signing_key(entry: Any, algorithms: Collection[str]) -> SigningKey | None:
    if not isinstance(entry, dict) or not _members_have_their_types(entry):
        # One malformed entry is skipped; the others keep working.
        return None
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        return None
    if not _is_public_signature_key(entry):
        return None
    by_algorithm: dict[str, PyJWK] = {}
    for algorithm in _algorithms_for(entry, algorithms):
        prepared = _prepare(entry, algorithm)
        if prepared is not None:
            by_algorithm[algorithm] = prepared
    if not by_algorithm:
        return None
    return SigningKey(kid=kid, by_algorithm=by_algorithm)


def _members_have_their_types(entry: dict[str, Any]) -> bool:
    """RFC 7517/7518 give every member the service reads a JSON type: strings, and key_ops a list of them."""
    if any(name in entry and not isinstance(entry[name], str) for name in _STRING_MEMBERS):
        return False
    key_ops = entry.get("key_ops")
    return key_ops is None or (isinstance(key_ops, list) and all(isinstance(op, str) for op in key_ops))


def _is_public_signature_key(entry: dict[str, Any]) -> bool:
    use = entry.get("use")
    if use is not None and use != "sig":
        return False
    key_ops = entry.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return False
    return not _SECRET_MEMBERS.intersection(entry)


def _algorithms_for(entry: dict[str, Any], allowed: Collection[str]) -> list[str]:
    """The allowed algorithms this JWK's own kty, crv and alg agree with."""
    kty = entry.get("kty")
    if kty == "RSA":
        compatible = set(_RSA_ALGORITHMS)
    elif kty == "EC":
        curve_algorithm = _EC_CURVE_ALGORITHM.get(str(entry.get("crv")))
        compatible = {curve_algorithm} if curve_algorithm else set()
    elif kty == "OKP":
        compatible = {"EdDSA"} if entry.get("crv") in _OKP_CURVES else set()
    else:
        return []
    declared = entry.get("alg")
    if declared is not None:
        # A JWK that names its algorithm may verify that algorithm only (RFC 7517 4.4).
        compatible &= {declared} if isinstance(declared, str) else set()
    return [algorithm for algorithm in allowed if algorithm in compatible]


def _prepare(entry: dict[str, Any], algorithm: str) -> PyJWK | None:
    try:
        prepared = PyJWK(entry, algorithm=algorithm)
        too_short = get_default_algorithms()[algorithm].check_key_length(prepared.key)
    except (PyJWTError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return None
    return None if too_short else prepared


class JwksCache:
    """Signing keys of one JWKS URL, fetched rarely and kept through outages.

    Parameters
    ----------
    url
        The JWKS URL (never taken from a token).
    algorithms
        The allowed algorithms; keys are prepared for these only.
    fetcher
        Downloads the document; ``UrllibJwksFetcher()`` when omitted.
    clock
        Monotonic seconds; injectable so tests can move time.
    cooldown_seconds
        Minimum time between two fetch attempts, whatever triggers them.
    max_age_seconds
        A set older than this is refreshed before use, so a removed key stops working.
    """

    def __init__(
        self,
        url: str,
        *,
        algorithms: Collection[str],
        fetcher: JwksFetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        if not 0 <= cooldown_seconds <= max_age_seconds:
            raise ValueError("cooldown_seconds must be between 0 and max_age_seconds")
        self._url = url
        self._algorithms = tuple(algorithms)
        self._fetcher: JwksFetcher = fetcher if fetcher is not None else UrllibJwksFetcher()
        self._clock = clock
        self._cooldown = cooldown_seconds
        self._max_age = max_age_seconds
        self._lock = threading.Lock()
        self._current: _KeySet | None = None
        self._last_attempt: float | None = None

    def get_key(self, kid: str) -> SigningKey:
        """The signing key for ``kid``, fetching the JWKS only when the rules allow.

        Raises
        ------
        UnknownSigningKey
            No key with this ``kid`` (after a refetch, if the cooldown allowed one).
        KeysUnavailable
            No key set could ever be obtained.
        """
        current = self._current
        if current is not None and self._clock() - current.fetched_at < self._max_age:
            key = current.keys.get(kid)
            if key is not None:
                return key
        return self._get_key_slowly(kid)

    def clear(self) -> None:
        """Forget the keys and the cooldown (tests; a new container starts this way)."""
        with self._lock:
            self._current = None
            self._last_attempt = None

    def _get_key_slowly(self, kid: str) -> SigningKey:
        # Single flight: a caller that waited here finds the set another caller fetched,
        # and the cooldown that fetch started keeps it from fetching again.
        with self._lock:
            now = self._clock()
            current = self._current
            fresh = current is not None and now - current.fetched_at < self._max_age
            if not (fresh and current is not None and kid in current.keys) and self._may_fetch(now):
                current = self._refresh(now)
            if current is None:
                raise KeysUnavailable()
            key = current.keys.get(kid)
            if key is None:
                raise UnknownSigningKey()
            return key

    def _may_fetch(self, now: float) -> bool:
        return self._last_attempt is None or now - self._last_attempt >= self._cooldown

    def _refresh(self, now: float) -> _KeySet | None:
        self._last_attempt = now
        started = time.perf_counter()
        try:
            keys = parse_jwks(self._fetcher(self._url), algorithms=self._algorithms)
        except JwksFetchError as exc:
            _log(
                logging.WARNING,
                "jwks_fetch_failed",
                jwks_url=self._url,
                reason=exc.message,
                kept_last_good=self._current is not None,
            )
            return self._current
        self._current = _KeySet(keys=keys, fetched_at=now)
        _log(
            logging.INFO,
            "jwks_fetched",
            jwks_url=self._url,
            keys=len(keys),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return self._current


def _log(level: int, event: str, **fields: object) -> None:
    log_event(_LOG, level, event, **fields)
