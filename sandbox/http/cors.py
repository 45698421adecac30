"""CORS as Auth0 answers it: the token, revoke and userinfo endpoints for the applications' web origins.

A browser page on another origin (the SPA on 127.0.0.1:3000) may only read these answers when
its origin is one of the registered "Allowed Web Origins"; any other origin's preflight is refused,
and its requests get no ``Access-Control-Allow-Origin``, so the browser hides the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sandbox.http.wire import Request, Response, empty_response, json_response

CREDENTIALED_PATHS = frozenset({"/oauth/token", "/oauth/revoke", "/userinfo"})
PUBLIC_PATHS = frozenset({"/.well-known/jwks.json", "/.well-known/openid-configuration"})
ALLOWED_METHODS = "GET, POST, OPTIONS"
# What auth0-spa-js sends: Content-Type, Auth0-Client (base64 SDK name), Authorization, DPoP.
ALLOWED_HEADERS = "Auth0-Client, Authorization, Content-Type, DPoP"
PREFLIGHT_MAX_AGE = "86400"


class CorsPolicy:
    """``origins``: fixed ones, or a function giving the applications' web origins as they are now."""

    def __init__(self, origins: Iterable[str] | Callable[[], Iterable[str]]) -> None:
        self._origins: Callable[[], Iterable[str]]
        if callable(origins):
            self._origins = origins
        else:
            fixed = frozenset(origins)
            self._origins = lambda: fixed

    def _allows(self, origin: str | None) -> bool:
        return origin is not None and origin in frozenset(self._origins())

    def preflight(self, request: Request) -> Response | None:
        """The answer to a browser's ``OPTIONS`` preflight, or None when the request is not one."""
        if request.method != "OPTIONS" or request.path not in CREDENTIALED_PATHS | PUBLIC_PATHS:
            return None
        origin = request.header("origin")
        if request.path in PUBLIC_PATHS:
            return empty_response(204) if origin is None else _with_headers(empty_response(204), "*")
        if origin is None or not self._allows(origin):
            return json_response(
                403,
                {"error": "access_denied", "error_description": f"Origin {origin or '(none)'} is not allowed"},
                {"Vary": "Origin"},
            )
        return _with_headers(empty_response(204), origin)

    def decorate(self, request: Request, response: Response) -> None:
        """Let the page read an answer when its origin is allowed (errors too: the SDK shows them)."""
        origin = request.header("origin")
        if request.path in PUBLIC_PATHS:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif request.path in CREDENTIALED_PATHS:
            response.headers["Vary"] = "Origin"
            if origin is not None and self._allows(origin):
                response.headers["Access-Control-Allow-Origin"] = origin


def _with_headers(response: Response, origin: str) -> Response:
    response.headers.update(
        {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            "Vary": "Origin",
        }
    )
    return response
