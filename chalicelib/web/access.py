"""The private routes: authenticate the Bearer token, authorize the course, answer per RFC 6750.

Verification happens here, in the app, and not in a Chalice built-in authorizer: an
authorizer can only allow or deny (no ``WWW-Authenticate`` challenge), and API Gateway
caches its verdict for minutes, past the token's ``exp``.

Nothing is read or built at import time. Settings, the CORS policy and the verifier
(with its JWKS cache) are built on first use and kept for the warm container;
``clear_caches()`` forgets them. This module never imports auth0-python or boto3.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Request, Response

from chalicelib.access.bearer import QUERY_PARAMETER, extract_bearer_token
from chalicelib.access.settings import (
    AccessSettings,
    CorsPolicy,
    load_access_settings,
    load_cors_policy,
)
from chalicelib.access.token_errors import (
    AccessError,
    InsufficientScope,
    InvalidRequest,
    KeysUnavailable,
)
from chalicelib.errors import ConfigurationError, InternalError, ServiceError, describe_failure
from chalicelib.logs import log_event
from chalicelib.web.answers import bearer_error_answer, error_body, json_answer
from chalicelib.wiring import get_catalog

if TYPE_CHECKING:
    from chalicelib.access.verifier import AccessTokenVerifier, VerifiedToken

REALM = "gumroad-auth0-gate"
MAX_VERIFY_BODY_BYTES = 16_384
PREFLIGHT_MAX_AGE_SECONDS = 600
MAX_GREETING_NAME = 200

_LOG = logging.getLogger("gumroad_auth0.access")
_PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
}
# No double quotes: the text also goes into the WWW-Authenticate quoted-string.
_BODY_SHAPE = "the body must be a JSON object whose only member, token, is a non-empty string"
# Lets the SPA's JavaScript read why a call was refused.
_EXPOSED_HEADERS = "WWW-Authenticate, Retry-After"


# --- lazily built, cached collaborators -------------------------------------------------------


@functools.cache
def get_access_settings() -> AccessSettings:
    return load_access_settings(os.environ)


@functools.cache
def get_cors_policy() -> CorsPolicy:
    return load_cors_policy(os.environ)


@functools.cache
def get_verifier() -> AccessTokenVerifier:
    """The verifier and its JWKS cache, built once per warm container."""
    # Imported on first use: PyJWT and requests are only needed once a token arrives.
    from chalicelib.access.jwks import JwksCache
    from chalicelib.access.verifier import AccessTokenVerifier

    settings = get_access_settings()
    return AccessTokenVerifier(
        issuer=settings.issuer,
        audience=settings.audience,
        keys=JwksCache(settings.jwks_url, algorithms=settings.algorithms),
        algorithms=settings.algorithms,
        leeway_seconds=settings.leeway_seconds,
    )


def clear_caches() -> None:
    """Forget settings, CORS policy, verifier, JWKS and verified tokens (tests change them)."""
    get_verifier.cache_clear()
    get_access_settings.cache_clear()
    get_cors_policy.cache_clear()


# --- routes -------------------------------------------------------------------------------------


def private(request: Request) -> Response:
    """``GET /private``: greet the holder of any valid access token."""

    def greet(token: VerifiedToken) -> Response:
        return json_answer(200, {"message": f"Hello {_display_name(token)}"})

    return _serve(request, lambda: greet(_authenticate(request)))


def verify(request: Request) -> Response:
    """``POST /verify`` with ``{"token": "..."}``: the session check a SPA runs when it starts."""

    def check() -> Response:
        get_access_settings()
        if QUERY_PARAMETER in _query_names(request):
            raise InvalidRequest("send the token in the JSON body, not in the URL")
        token = get_verifier().verify(_token_from_body(request))
        return json_answer(
            200,
            {
                "status": "valid",
                "sub": token.subject,
                "expires_at": token.expires_at,
                "permissions": sorted(token.permissions),
            },
        )

    if not _is_json(request.headers.get("content-type")):
        return _with_cors(
            request,
            lambda: json_answer(
                415,
                error_body("unsupported_media_type", 'send {"token": "..."} as application/json'),
            ),
        )
    return _serve(request, check)


def list_courses(request: Request) -> Response:
    """``GET /courses``: the catalogue's courses the token's permissions grant."""

    def granted(token: VerifiedToken) -> Response:
        courses = [
            {"slug": course.slug, "title": course.title} for course in get_catalog() if token.grants(course.permission)
        ]
        return json_answer(200, {"courses": courses})

    return _serve(request, lambda: granted(_authenticate(request)))


def get_course(request: Request, slug: str) -> Response:
    """``GET /courses/{slug}``: 200 with the course's permission, 403 without, 404 if unknown."""

    def one(token: VerifiedToken) -> Response:
        course = get_catalog().by_slug(slug)
        if course is None:
            return json_answer(404, error_body("not_found", "no course has this slug"))
        if not token.grants(course.permission):
            raise InsufficientScope(course.permission)
        return json_answer(200, {"slug": course.slug, "title": course.title, "permission": course.permission})

    return _serve(request, lambda: one(_authenticate(request)))


def preflight(request: Request) -> Response:
    """``OPTIONS`` on the private routes: CORS preflight for the configured origins only."""
    try:
        policy = get_cors_policy()
    except ConfigurationError as error:
        _log(logging.ERROR, "access_misconfigured", route=request.path, detail=error.message)
        return Response(body="", status_code=204)
    headers: dict[str, str | list[str]] = {}
    if policy.enabled:
        headers["Vary"] = "Origin"
        allowed = policy.allow_origin(request.headers.get("origin"))
        if allowed is not None:
            headers["Access-Control-Allow-Origin"] = allowed
            headers.update(_PREFLIGHT_HEADERS)
    return Response(body="", status_code=204, headers=headers)


# --- the parts every route shares -------------------------------------------------------------


def _serve(request: Request, answer: Callable[[], Response]) -> Response:
    """Run a route; map the service's errors to RFC 6750 answers; add CORS headers."""

    def guarded() -> Response:
        try:
            return answer()
        except ServiceError as error:
            _log_refusal(request, error)
            return bearer_error_answer(error, REALM)
        except Exception as unexpected:
            # A bug: 503 in the RFC 6750 shape, logged by type and place (never the token).
            _log(logging.ERROR, "access_failed", route=request.path, detail=describe_failure(unexpected))
            return bearer_error_answer(InternalError(), REALM)

    return _with_cors(request, guarded)


def _with_cors(request: Request, answer: Callable[[], Response]) -> Response:
    try:
        policy = get_cors_policy()
    except ConfigurationError as error:
        _log_refusal(request, error)
        return bearer_error_answer(error, REALM)
    response = answer()
    if policy.enabled:
        response.headers["Vary"] = "Origin"
        allowed = policy.allow_origin(request.headers.get("origin"))
        if allowed is not None:
            response.headers["Access-Control-Allow-Origin"] = allowed
            response.headers["Access-Control-Expose-Headers"] = _EXPOSED_HEADERS
    return response


def _authenticate(request: Request) -> VerifiedToken:
    get_access_settings()  # a missing AUTH0_AUDIENCE is a 503 before anything else
    token = extract_bearer_token(_authorization_values(request), query_parameters=_query_names(request))
    return get_verifier().verify(token)


def _authorization_values(request: Request) -> list[str]:
    # API Gateway keeps repeated headers apart in multiValueHeaders; Chalice's
    # request.headers holds only the last one, which would hide a second credential.
    event = request.to_original_event()
    repeated = event.get("multiValueHeaders") or {}
    values = [value for name, listed in repeated.items() if name.lower() == "authorization" for value in (listed or [])]
    if values:
        return values
    single = request.headers.get("authorization")
    return [] if single is None else [single]


def _query_names(request: Request) -> set[str]:
    return set(request.query_params or {})


def _token_from_body(request: Request) -> str:
    raw = request.raw_body
    body = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(body) > MAX_VERIFY_BODY_BYTES:
        raise InvalidRequest("the body is too large")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidRequest(_BODY_SHAPE) from None
    if not isinstance(document, dict) or set(document) != {"token"}:
        raise InvalidRequest(_BODY_SHAPE)
    token = document["token"]
    if not isinstance(token, str) or not token:
        raise InvalidRequest(_BODY_SHAPE)
    return token


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _display_name(token: VerifiedToken) -> str:
    claim = get_access_settings().name_claim
    if claim is not None:
        value = token.claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_GREETING_NAME]
    return token.subject


def _log_refusal(request: Request, error: ServiceError) -> None:
    if isinstance(error, ConfigurationError):
        _log(logging.ERROR, "access_misconfigured", route=request.path, detail=error.message)
    elif isinstance(error, KeysUnavailable):
        _log(logging.WARNING, "access_unavailable", route=request.path, reason=error.reason)
    elif isinstance(error, AccessError):
        _log(logging.INFO, "access_refused", route=request.path, reason=error.reason)
    else:
        _log(logging.ERROR, "access_failed", route=request.path, error=type(error).__name__)


def _log(level: int, event: str, **fields: Any) -> None:
    # Never a token, a header value or a claim.
    log_event(_LOG, level, event, **fields)
