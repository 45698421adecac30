"""What every request passes before its handler: counting, the rate limit, faults and the bearer token."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from sandbox.errors import (
    OAuthError,
    SandboxError,
    insufficient_scope,
    invalid_token,
    missing_authentication,
    oauth_server_error,
    server_error,
    too_many_requests,
)
from sandbox.http.browser_safety import BrowserSafety
from sandbox.http.cors import CorsPolicy
from sandbox.http.faults import Fault, FaultPlan
from sandbox.http.rate_limit import RateLimiter
from sandbox.http.routing import AUTHENTICATION, MANAGEMENT, SANDBOX, Route, Router, family_of
from sandbox.http.stats import Stats
from sandbox.http.wire import Request, Response, error_response
from sandbox.tenant.tokens import TokenIssuer, TokenRejected

log = logging.getLogger("sandbox")


class RequestPipeline:
    """Routes a request and turns every failure, expected or not, into an Auth0-shaped answer."""

    def __init__(
        self,
        *,
        router: Router,
        issuer: TokenIssuer,
        management_audience: str,
        limiter: RateLimiter,
        faults: FaultPlan,
        stats: Stats,
        stopping: threading.Event,
        browser_safety: BrowserSafety,
        cors: CorsPolicy | None = None,
    ) -> None:
        self._browser_safety = browser_safety
        self._cors = cors or CorsPolicy(())
        self._router = router
        self._issuer = issuer
        self._management_audience = management_audience
        self._limiter = limiter
        self._faults = faults
        self._stats = stats
        self._stopping = stopping

    def handle(self, request: Request) -> Response:
        family = family_of(request.path)
        refusal = self._browser_safety.host_refusal(request, family)
        if refusal is not None:
            return error_response(refusal)  # before counting: a request for another site is not the tenant's
        preflight = self._cors.preflight(request)
        if preflight is not None:
            return preflight  # a browser's CORS preflight: answered before routing, as no route has OPTIONS
        headers: dict[str, str] = {}
        try:
            route, params = self._route(family, request)
            self._browser_safety.require_json(request, family)
            if family == MANAGEMENT:
                headers = self._take_rate_limit_token()
            self._inject_fault(family, request, headers)
            scopes = self._authorize(request, route) if family == MANAGEMENT else frozenset()
            response = route.handler(replace(request, params=params, scopes=scopes))
        except SandboxError as error:
            response = error_response(error)
        except Exception:
            log.exception("sandbox: unexpected error answering %s %s", request.method, request.path)
            response = error_response(oauth_server_error() if family == AUTHENTICATION else server_error())
        response.headers = {**headers, **response.headers}
        self._cors.decorate(request, response)
        if family != SANDBOX:
            self._stats.answered(response.status)
        return response

    def _route(self, family: str, request: Request) -> tuple[Route, dict[str, str]]:
        try:
            route, params = self._router.match(request.method, request.path)
        except SandboxError:
            if family != SANDBOX:
                self._stats.request(family, f"{request.method} {request.path}")
            raise
        if family != SANDBOX:
            self._stats.request(family, route.endpoint)
        return route, params

    def _take_rate_limit_token(self) -> dict[str, str]:
        decision = self._limiter.take()
        if decision is None:
            return {}
        if not decision.allowed:
            raise too_many_requests(decision.headers)
        return decision.headers

    def _inject_fault(self, family: str, request: Request, headers: dict[str, str]) -> None:
        if family == SANDBOX:
            return
        fault = self._faults.take(request.method, request.path)
        if fault is None:
            return
        self._stats.fault_injected()
        if fault.delay_seconds > 0:
            # Wakes early when the server stops, so a slow answer never holds up shutdown.
            self._stopping.wait(fault.delay_seconds)
        if fault.status is not None:
            raise _fault_error(fault, family, headers)

    def _authorize(self, request: Request, route: Route) -> frozenset[str]:
        """The token's scopes, once it holds one the route needs (some answers also depend on the others)."""
        token = request.bearer_token()
        if token is None:
            raise missing_authentication()
        try:
            claims = self._issuer.verify(token, audience=self._management_audience)
        except TokenRejected as rejected:
            raise invalid_token(rejected.message) from None
        scope = claims.get("scope")
        granted = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        if route.scopes and not granted.intersection(route.scopes):
            raise insufficient_scope(route.scopes)
        return granted


def _fault_error(fault: Fault, family: str, headers: dict[str, str]) -> SandboxError:
    status = fault.status or 500
    if status == 429:
        throttled = {
            "x-ratelimit-limit": headers.get("x-ratelimit-limit", "2"),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + 1),
        }
        headers.update(throttled)
        if family == MANAGEMENT:
            return too_many_requests(throttled)
        return OAuthError(429, "too_many_requests", "Global limit has been reached", headers=throttled)
    if family == MANAGEMENT:
        return server_error(status)
    return oauth_server_error(status)
