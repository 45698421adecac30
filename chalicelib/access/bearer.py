"""Where a request's access token is read: the Authorization header (RFC 6750 section 2.1), or /verify's body."""

from __future__ import annotations

import string
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from chalicelib.errors import InvalidRequest, NoCredentials
from chalicelib.strict_json import parse_json

if TYPE_CHECKING:
    from chalicelib.access.verifier import AccessTokenVerifier, VerifiedToken

QUERY_PARAMETER = "access_token"
MAX_VERIFY_BODY_BYTES = 16_384
# No double quotes: the text also goes into the WWW-Authenticate quoted-string.
_BODY_SHAPE = "the body must be a JSON object whose only member, token, is a non-empty string"

# RFC 7235: auth-scheme = token (tchar); RFC 6750: credentials = "Bearer" 1*SP b64token, where
# b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". Character sets, not
# regular expressions: a cold start would compile three patterns for this (docs/internals.md, "Cold start").
_TCHAR = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
_B64TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~+/")
_SEPARATORS = " \t"


def extract_bearer_token(
    authorization: Sequence[str],
    *,
    query_parameters: Collection[str] = (),
) -> str:
    """Return the Bearer token carried by the Authorization header values.

    Parameters
    ----------
    authorization
        Every value of the Authorization header the request carried (API Gateway
        keeps repeated headers apart; an empty sequence means no header).
    query_parameters
        Names of the query-string parameters: a token there is never read, and
        sending one next to the header is a malformed request.

    Returns
    -------
    str
        The token, unverified.

    Raises
    ------
    NoCredentials
        No header, or credentials of another scheme (401 without an error code).
    InvalidRequest
        A malformed header, an empty Bearer, several credentials, or a header plus
        an ``access_token`` query parameter (400 ``invalid_request``).
    """
    if not authorization:
        raise NoCredentials()
    if len(authorization) > 1:
        raise InvalidRequest("send exactly one Authorization header")
    token = _parse_single(authorization[0])
    if QUERY_PARAMETER in query_parameters:
        # RFC 6750 section 2: clients must not use more than one method per request.
        raise InvalidRequest("send the access token in the Authorization header only, not in the URL")
    return token


def verify_bearer(
    authorization: Sequence[str], query_parameters: Collection[str], *, verifier: AccessTokenVerifier
) -> VerifiedToken:
    """The principal of a request carrying ``Authorization: Bearer <token>`` (RFC 6750 section 2.1 only)."""
    return verifier.verify(extract_bearer_token(authorization, query_parameters=query_parameters))


def token_from_body(body: bytes, query_parameters: Collection[str]) -> str:
    """The token of ``POST /verify``'s ``{"token": "..."}``; never one from the URL."""
    if QUERY_PARAMETER in query_parameters:
        raise InvalidRequest("send the token in the JSON body, not in the URL")
    if len(body) > MAX_VERIFY_BODY_BYTES:
        raise InvalidRequest("the body is too large")
    try:
        document = parse_json(body)
    except ValueError:
        raise InvalidRequest(_BODY_SHAPE) from None
    if not isinstance(document, dict) or set(document) != {"token"}:
        raise InvalidRequest(_BODY_SHAPE)
    token = document["token"]
    if not isinstance(token, str) or not token:
        raise InvalidRequest(_BODY_SHAPE)
    return token


def _parse_single(value: str) -> str:
    value = value.strip(" \t")
    if not value:
        raise InvalidRequest("the Authorization header is empty")
    if "," in value:
        # Proxies join repeated headers with commas; several schemes mean several credentials.
        if any(_is_bearer(part.strip(" \t").split(" ", 1)[0]) for part in value.split(",")):
            raise InvalidRequest("send exactly one Bearer credential")
        raise NoCredentials()
    scheme, credential = _split_at_separators(value)
    if not scheme or not _TCHAR.issuperset(scheme):
        raise InvalidRequest("the Authorization header is malformed")
    if not _is_bearer(scheme):
        raise NoCredentials()
    if not credential:
        raise InvalidRequest("the Bearer credential is empty")
    if any(character in _SEPARATORS for character in credential):
        raise InvalidRequest("send exactly one Bearer credential")
    if not _is_b64token(credential):
        raise InvalidRequest("the Bearer credential contains characters a token cannot have")
    return credential


def _split_at_separators(value: str) -> tuple[str, str]:
    """``scheme SP credentials``: what precedes the first run of spaces and tabs, and what follows it."""
    for index, character in enumerate(value):
        if character in _SEPARATORS:
            return value[:index], value[index:].lstrip(_SEPARATORS)
    return value, ""


def _is_b64token(credential: str) -> bool:
    body = credential.rstrip("=")
    return bool(body) and _B64TOKEN_CHARACTERS.issuperset(body)


def _is_bearer(scheme: str) -> bool:
    # Auth schemes are case-insensitive (RFC 7235 section 2.1).
    return scheme.lower() == "bearer"
