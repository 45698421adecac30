"""The private routes' HTTP edge: their declaration, credentials out of the request, RFC 6750 answers, CORS.

Verification happens in the app, not in a Chalice built-in authorizer: an authorizer can only allow or
deny (no ``WWW-Authenticate`` challenge), and API Gateway caches its verdict for minutes, past the
token's ``exp``. Nothing on this path imports auth0-python or httpx; boto3 only to sign a lesson's URL.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Request, Response

from chalicelib import wiring
from chalicelib.access.bearer import token_from_body, verify_bearer
from chalicelib.errors import (
    AccessError,
    ConfigurationError,
    ContentUnavailable,
    InternalError,
    KeysUnavailable,
    ServiceError,
    UnsupportedMediaType,
)
from chalicelib.logs import describe_failure, log_event
from chalicelib.media_types import media_type
from chalicelib.web.answers import bearer_error_answer
from chalicelib.web.edge import ANY_CONTENT_TYPE

if TYPE_CHECKING:
    from chalicelib.access.verifier import VerifiedToken

REALM = "gumroad-auth0-gate"
PREFLIGHT_MAX_AGE_SECONDS = 600

_LOG = logging.getLogger("gumroad_auth0.access")
_PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
}
# Lets the SPA's JavaScript read why a call was refused.
_EXPOSED_HEADERS = "WWW-Authenticate, Retry-After"

View = Callable[..., Response]


class PrivateRoutes:
    """The app's private routes: each is guarded, answered with CORS headers and given an ``OPTIONS`` preflight.

    A path is private because app.py declares it with ``route``: the CORS middleware and the preflights
    follow from those declarations, so the list of private paths is written once, at the routes.
    """

    def __init__(self, app: Chalice) -> None:
        self._app = app
        self._paths: set[str] = set()
        app.register_middleware(self._cors, "http")

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self._paths)

    def route(self, path: str, *, methods: list[str]) -> Callable[[View], View]:
        """Register a view at ``path``: the service's errors become RFC 6750 answers and a bug a 503, so that
        the view reads as its happy path."""

        def register(view: View) -> View:
            guarded = self._guarded(view)
            self._app.route(path, methods=methods, content_types=ANY_CONTENT_TYPE)(guarded)
            if path not in self._paths:
                self._paths.add(path)
                self._app.route(path, methods=["OPTIONS"], content_types=ANY_CONTENT_TYPE)(preflight_answer)
            return guarded

        return register

    def _guarded(self, view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Response:
            try:
                return view(*args, **kwargs)
            except ServiceError as error:
                _log_refusal(_path(self._app.current_request), error)
                return bearer_error_answer(error, REALM)
            except Exception as unexpected:
                # A bug: 503 in the RFC 6750 shape, logged by type and place (never the token).
                detail = describe_failure(unexpected)
                _log(logging.ERROR, "access_failed", route=_path(self._app.current_request), detail=detail)
                return bearer_error_answer(InternalError(), REALM)

        return guarded

    def _cors(self, event: Request, get_response: Callable[[Request], Response]) -> Response:
        """HTTP middleware: the private routes' answers, preflights included, carry CORS headers for allowed
        origins."""
        if event.context.get("resourcePath") not in self._paths:
            return get_response(event)
        try:
            policy = wiring.get_cors_policy()
        except ConfigurationError as error:
            _log_refusal(event.path, error)
            return bearer_error_answer(error, REALM)
        response = get_response(event)
        if policy.enabled:
            response.headers["Vary"] = "Origin"
            allowed = policy.allow_origin(event.headers.get("origin"))
            if allowed is not None:
                response.headers["Access-Control-Allow-Origin"] = allowed
                if event.method == "OPTIONS":
                    response.headers.update(_PREFLIGHT_HEADERS)
                else:
                    response.headers["Access-Control-Expose-Headers"] = _EXPOSED_HEADERS
        return response


def authenticate(request: Request) -> VerifiedToken:
    """The request's principal. The verifier comes first: a missing AUTH0_AUDIENCE is a 503 before anything."""
    verifier = wiring.get_verifier()
    return verify_bearer(_authorization_values(request), _query_names(request), verifier=verifier)


def token_to_verify(request: Request) -> str:
    """``POST /verify``'s token: a JSON body only."""
    if media_type(request.headers.get("content-type")) != "application/json":
        raise UnsupportedMediaType('send {"token": "..."} as application/json')
    raw = request.raw_body
    return token_from_body(raw.encode("utf-8") if isinstance(raw, str) else raw, _query_names(request))


def preflight_answer(**path_parameters: str) -> Response:
    """``OPTIONS`` on a private route: an empty 204 (the CORS middleware adds the headers for an allowed origin)."""
    return Response(body="", status_code=204)


def _path(request: Request | None) -> str | None:
    return request.path if request is not None else None


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


def _log_refusal(path: str | None, error: ServiceError) -> None:
    if isinstance(error, ConfigurationError):
        _log(logging.ERROR, "access_misconfigured", route=path, detail=error.message)
    elif isinstance(error, KeysUnavailable):
        _log(logging.WARNING, "access_unavailable", route=path, reason=error.reason)
    elif isinstance(error, ContentUnavailable):
        _log(logging.WARNING, "access_unavailable", route=path, reason=error.reason, detail=error.detail)
    elif isinstance(error, AccessError):
        _log(logging.INFO, "access_refused", route=path, reason=error.reason)
    else:
        _log(logging.INFO, "access_refused", route=path, error=error.code)


def _log(level: int, event: str, **fields: Any) -> None:
    # Never a token, a header value or a claim.
    log_event(_LOG, level, event, **fields)
