"""How `ops tenant` calls the Auth0 Management API through auth0-python: paced, 429s waited out, errors in one line.

Calls are paced by the tenant's rate limit (the free tier allows 2 a second) and a 429 is waited out; a read
that fails with a 5xx is tried again, a write is not (it may have been made: the next plan sees it). A 403
names the Management API scope the bootstrap application lacks. ``read`` reads with it,
``write`` changes with it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from auth0.management.core.api_error import ApiError
from auth0.management.core.parse_error import ParsingError
from auth0.management.core.request_options import RequestOptions

from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy, rate_limit_wait
from ops.errors import Auth0Refused

if TYPE_CHECKING:
    from auth0.management import Auth0

T = TypeVar("T")

PAGE = 100
READ_ATTEMPTS = 4


class Calls:
    """auth0-python's Management client (built by the service's own builder), called the way ``ops tenant`` needs."""

    def __init__(
        self,
        client: Auth0,
        *,
        pacer: RateLimitPacer,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.pacer = pacer
        self.policy = policy
        self.sleep = sleep
        self.wall_clock = wall_clock

    def pages(self, scope: str, fetch: Callable[[int, RequestOptions], Any]) -> Iterator[Any]:
        """Every item of an offset-paged list, one request per page (stops at a short page, as Auth0's totals say)."""
        page = 0
        while True:
            pager = self.read(scope, functools.partial(fetch, page))
            items = list(pager.items or [])
            yield from items
            total = getattr(pager.response, "total", None)
            page += 1
            if len(items) < PAGE or (isinstance(total, int | float) and page * PAGE >= total):
                return

    def read(self, scope: str, request: Callable[[RequestOptions], T]) -> T:
        return self._call(scope, request, retry_errors=True)

    def read_or_none(self, scope: str, request: Callable[[RequestOptions], T]) -> T | None:
        """A read whose 404 means "there is none"."""
        try:
            return self._call(scope, request, retry_errors=True, missing_is_none=True)
        except _NotFound:
            return None

    def write(self, scope: str, request: Callable[[RequestOptions], T]) -> T:
        return self._call(scope, request, retry_errors=False)

    def _call(
        self, scope: str, request: Callable[[RequestOptions], T], *, retry_errors: bool, missing_is_none: bool = False
    ) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.pacer.turn(self.policy, None):
                    return request({"max_retries": 0, "timeout": self.policy.per_call_timeout})
            except ApiError as error:
                if error.status_code == 404 and missing_is_none:
                    raise _NotFound from None
                wait = self._wait(error, retry_errors, attempt)
                if wait is None:
                    raise refusal(error, scope) from None
            except ParsingError:
                # Its text holds the whole body, which may hold a client secret: say which call, never what came.
                raise Auth0Refused(
                    f"Auth0's answer to {scope} is not what auth0-python reads (its body is not shown)"
                ) from None
            except httpx.TransportError as error:
                if not retry_errors or attempt >= READ_ATTEMPTS:
                    raise Auth0Refused(
                        f"Auth0 is unreachable ({type(error).__name__}); run the command again"
                    ) from None
                wait = self.policy.backoff(attempt - 1)
            self.sleep(wait)

    def _wait(self, error: ApiError, retry_errors: bool, attempt: int) -> float | None:
        """How long to wait before trying again, or None: give up. A 429 was not processed: any call may retry it."""
        status = error.status_code or 0
        if attempt >= READ_ATTEMPTS:
            return None
        if status == 429:
            headers = error.headers if isinstance(error.headers, Mapping) else None
            asked = rate_limit_wait(headers, now=self.wall_clock())
            return asked if asked is not None else 1.0
        if retry_errors and (status >= 500 or status == 408):
            return self.policy.backoff(attempt - 1)
        return None


def text_of(value: object) -> str | None:
    """A value the SDK types loosely, as the string Auth0 sends (an id, a secret)."""
    return value if isinstance(value, str) else None


class _NotFound(Exception):
    """A read answered 404 where that means "none"."""


def missing_scope(scope: str, evidence: str) -> Auth0Refused:
    """The bootstrap application lacks ``scope``: Auth0 refused a call (403), or left out what only it shows."""
    return Auth0Refused(
        f"the bootstrap application (AUTH0_TENANT_CLIENT_ID) lacks the Management API scope {scope} ({evidence}): "
        "grant it in Applications > APIs > Auth0 Management API > Machine To Machine Applications; "
        "`ops tenant --help` lists every scope it needs"
    )


def refusal(error: ApiError, scope: str) -> Auth0Refused:
    """Auth0's error as one line: a missing scope is named, with where to grant it."""
    status = error.status_code or 0
    body = error.body if isinstance(error.body, Mapping) else {}
    code, message = body.get("errorCode"), body.get("message")
    said = f"{status} {code or body.get('error') or ''}".strip() + (f": {message}" if message else "")
    if status == 403 and code == "insufficient_scope":
        return missing_scope(scope, f"Auth0 answered {said}")
    if status == 401:
        return Auth0Refused(f"Auth0 refused the bootstrap application's token ({said})")
    return Auth0Refused(f"Auth0 answered {said}")
