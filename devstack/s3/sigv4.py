"""Checks a request's AWS Signature Version 4 as S3 does, recomputing it with botocore's own signers.

A pre-signed URL (query parameters, ``S3SigV4QueryAuth``) and an SDK call (``Authorization`` header,
``S3SigV4Auth``) are rebuilt as the ``AWSRequest`` their signer saw: the request's method, path as sent,
query without ``X-Amz-Signature``, only the headers it names as signed, and its own ``X-Amz-Date`` as the
signer's timestamp. botocore then computes the canonical request, the string to sign and the signature; this
module only compares (in constant time) and applies S3's rules on keys, scope and time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from botocore.auth import SIGV4_TIMESTAMP, UNSIGNED_PAYLOAD, S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.s3 import errors
from devstack.s3.config import MAX_CLOCK_SKEW_SECONDS, MAX_PRESIGNED_EXPIRES_SECONDS, AccessKey
from devstack.s3.errors import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
TERMINAL = "aws4_request"
QUERY_AUTH_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_CREDENTIAL_FORM = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class WireRequest:
    """A request as it arrived: the path and query exactly as sent (still percent-encoded)."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded ``(name, value)`` pairs, in order; ``+`` stays a plus, as S3 reads it."""
        pairs = []
        for part in self.query.split("&"):
            if part:
                name, _, value = part.partition("=")
                pairs.append((unquote(name), unquote(value)))
        return pairs


@dataclass(frozen=True)
class _Credential:
    access_key_id: str
    date: str
    region: str
    service: str
    terminal: str


class SigV4Verifier:
    """Authenticates requests for one region against a fixed set of keys.

    Parameters
    ----------
    keys
        The key pairs this endpoint knows (their ids must differ).
    region
        The bucket's region: a signature scoped to another one is refused, as S3 refuses it.
    clock
        The current time (UTC); tests pass another.
    """

    def __init__(self, *, keys: Iterable[AccessKey], region: str, clock: Callable[[], datetime]) -> None:
        self._keys = {key.access_key_id: key for key in keys}
        self._region = region
        self._clock = clock

    def authenticate(self, request: WireRequest) -> AccessKey:
        """The key that signed ``request``; raises ``S3Error`` with S3's answer when it must be refused."""
        query_names = {name for name, _ in request.query_pairs()}
        authorization = request.header("authorization")
        by_query = bool(query_names & {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})
        if authorization is not None and (by_query or "Signature" in query_names):
            raise errors.two_mechanisms()
        if by_query:
            return self._authenticate_query(request)
        if authorization is not None:
            if not authorization.startswith(f"{ALGORITHM} "):
                raise errors.unsupported_mechanism()  # SigV2 ("AWS AKID:signature") and anything else
            return self._authenticate_header(request, authorization)
        if {"Signature", "AWSAccessKeyId"} <= query_names:
            raise errors.unsupported_mechanism()  # a SigV2 pre-signed URL
        raise errors.access_denied()  # anonymous, and the bucket is private

    # --- pre-signed URLs --------------------------------------------------------------------------------------------

    def _authenticate_query(self, request: WireRequest) -> AccessKey:
        pairs = request.query_pairs()
        auth: dict[str, str] = {}
        for name, value in pairs:
            if name in QUERY_AUTH_PARAMETERS or name == "X-Amz-Security-Token":
                if name in auth:
                    raise errors.query_parameters_error(f"{name} was given more than once")
                auth[name] = value
        if any(name not in auth for name in QUERY_AUTH_PARAMETERS):
            raise errors.missing_query_parameters()
        if auth["X-Amz-Algorithm"] != ALGORITHM:
            raise errors.query_parameters_error(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
        signed_at = _parse_timestamp(auth["X-Amz-Date"])
        if signed_at is None:
            raise errors.query_parameters_error(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
            )
        expires = _parse_expires(auth["X-Amz-Expires"])
        credential = self._credential(
            auth["X-Amz-Credential"],
            timestamp=auth["X-Amz-Date"],
            refuse=lambda message, **details: errors.query_parameters_error(
                f"Error parsing the X-Amz-Credential parameter; {message}", **details
            ),
        )
        key = self._key(credential.access_key_id, auth.get("X-Amz-Security-Token"))

        unsigned = [(name, value) for name, value in pairs if name != "X-Amz-Signature"]
        signer = S3SigV4QueryAuth(_credentials(key), SERVICE, self._region, expires=expires)
        aws_request = _rebuild(request, unsigned, auth["X-Amz-SignedHeaders"], auth["X-Amz-Date"])
        _compare(signer, aws_request, key, auth["X-Amz-Signature"])

        now = self._clock()
        expires_at = signed_at + timedelta(seconds=expires)
        if now > expires_at:
            raise errors.request_expired(expires, expires_at, now)
        if signed_at > now + timedelta(seconds=MAX_CLOCK_SKEW_SECONDS):
            raise errors.request_not_yet_valid(signed_at, expires_at, now)
        return key

    # --- SDK calls (Authorization header) ---------------------------------------------------------------------------

    def _authenticate_header(self, request: WireRequest, authorization: str) -> AccessKey:
        fields = _authorization_fields(authorization)
        timestamp = _request_timestamp(request)
        if timestamp is None:
            raise errors.missing_date()
        credential = self._credential(
            fields["Credential"],
            timestamp=timestamp,
            refuse=lambda message, **details: errors.header_malformed(
                f"The authorization header is malformed; {message}", **details
            ),
        )
        key = self._key(credential.access_key_id, request.header("x-amz-security-token"))
        _check_payload(request)

        signer = S3SigV4Auth(_credentials(key), SERVICE, self._region)
        aws_request = _rebuild(request, request.query_pairs(), fields["SignedHeaders"], timestamp)
        _compare(signer, aws_request, key, fields["Signature"])

        now = self._clock()
        signed_at = datetime.strptime(timestamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        if abs((now - signed_at).total_seconds()) > MAX_CLOCK_SKEW_SECONDS:
            raise errors.request_time_too_skewed(signed_at, now)
        return key

    # --- shared rules -----------------------------------------------------------------------------------------------

    def _credential(self, value: str, *, timestamp: str, refuse: Callable[..., S3Error]) -> _Credential:
        parts = value.split("/")
        if len(parts) != 5 or not all(parts):
            raise refuse(f"the Credential is mal-formed; expecting {_CREDENTIAL_FORM}.")
        credential = _Credential(*parts)
        if credential.date != timestamp[:8]:
            # botocore scopes the signature with the timestamp's date; S3 refuses a credential dated otherwise.
            raise refuse("Invalid credential date. Date is not the same as X-Amz-Date.")
        if credential.region != self._region:
            raise refuse(f"the region '{credential.region}' is wrong; expecting '{self._region}'", Region=self._region)
        if credential.service != SERVICE:
            raise refuse(f'incorrect service "{credential.service}". This endpoint belongs to "{SERVICE}".')
        if credential.terminal != TERMINAL:
            raise refuse(f'incorrect terminal "{credential.terminal}". This endpoint uses "{TERMINAL}".')
        return credential

    def _key(self, access_key_id: str, session_token: str | None) -> AccessKey:
        key = self._keys.get(access_key_id)
        if key is None or (key.session_token is not None and session_token is None):
            raise errors.invalid_access_key_id(access_key_id)
        if session_token is not None and (
            key.session_token is None
            or not hmac.compare_digest(session_token.encode("utf-8"), key.session_token.encode("utf-8"))
        ):
            raise errors.invalid_token()
        return key


def _credentials(key: AccessKey) -> Credentials:
    return Credentials(key.access_key_id, key.secret_access_key, key.session_token)


def _rebuild(request: WireRequest, query: list[tuple[str, str]], signed_headers: str, timestamp: str) -> AWSRequest:
    """The request as its signer saw it: only the headers it signed, its query re-encoded as SigV4 encodes."""
    host = request.header("host") or ""
    # Decoded and encoded again (RFC 3986 unreserved characters kept), so a client that escapes differently
    # from botocore still gets the canonical query S3 computes.
    encoded = "&".join(f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in query)
    url = f"http://{host}{request.path}" + (f"?{encoded}" if encoded else "")
    aws_request = AWSRequest(method=request.method, url=url, data=request.body or None)
    for name in signed_headers.split(";"):
        for value in request.header_values(name):
            aws_request.headers[name] = value  # HTTPMessage appends: a repeated header keeps all its values
    aws_request.context["timestamp"] = timestamp
    return aws_request


def _compare(signer: SigV4Auth, aws_request: AWSRequest, key: AccessKey, provided: str) -> None:
    canonical_request = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical_request)
    expected = signer.signature(string_to_sign, aws_request)
    if not hmac.compare_digest(expected.encode("utf-8"), provided.encode("utf-8")):
        raise errors.signature_does_not_match(key.access_key_id, string_to_sign, provided, canonical_request)


def _parse_timestamp(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _parse_expires(value: str) -> int:
    if not _INTEGER.fullmatch(value):
        raise errors.expires_not_a_number()
    expires = int(value)
    if expires < 0:
        raise errors.expires_negative()
    if expires > MAX_PRESIGNED_EXPIRES_SECONDS:
        raise errors.expires_over_a_week()
    return expires


def _authorization_fields(authorization: str) -> dict[str, str]:
    """``Credential``, ``SignedHeaders`` and ``Signature`` from ``AWS4-HMAC-SHA256 Credential=..., ...``."""
    fields: dict[str, str] = {}
    for part in authorization[len(ALGORITHM) :].split(","):
        name, separator, value = part.strip().partition("=")
        if separator:
            fields[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise errors.header_malformed(
            f"The authorization header is malformed; the authorization header requires {', '.join(missing)}."
        )
    return fields


def _request_timestamp(request: WireRequest) -> str | None:
    """The signing time in SigV4's form: ``X-Amz-Date``, else the ``Date`` header (botocore signs with either)."""
    amz_date = request.header("x-amz-date")
    if amz_date is not None:
        return amz_date if _parse_timestamp(amz_date) is not None else None
    date = request.header("date")
    if date is None:
        return None
    try:
        return parsedate_to_datetime(date).astimezone(UTC).strftime(SIGV4_TIMESTAMP)
    except (TypeError, ValueError):
        return None


def _check_payload(request: WireRequest) -> None:
    """S3 signs the body through ``x-amz-content-sha256``: it must be there and say the truth."""
    claimed = request.header("x-amz-content-sha256")
    if claimed is None:
        raise errors.missing_content_sha256()
    if claimed == UNSIGNED_PAYLOAD:
        return
    if claimed.startswith("STREAMING-"):
        raise errors.streaming_signature_not_implemented()
    computed = hashlib.sha256(request.body).hexdigest()
    if not _SHA256_HEX.fullmatch(claimed) or not hmac.compare_digest(claimed, computed):
        raise errors.content_sha256_mismatch(claimed, computed)
