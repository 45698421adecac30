"""Replays recorded Auth0 Management API exchanges through an httpx transport, in order."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
TENANT = "example.us.auth0.com"
BASE_URL = f"https://{TENANT}"
USER_ID = "auth0|6560a1f0c2e4b0a1b2c3d4e5"
CONNECTION = "Username-Password-Authentication"


def fixture(name: str) -> Any:
    """A recorded Auth0 response body (a fresh copy every time)."""
    return json.loads((FIXTURES / "auth0" / name).read_text(encoding="utf-8"))


def found_user(
    *, email: str = "customer@example.com", app_metadata: dict[str, Any] | None = None, holder: bool = True
) -> list[Any]:
    """``GET /users-by-email`` answering one database user, with the given metadata.

    ``holder``: the buyer the service created (its ``purchase_holder`` mark), as every buyer it made is.
    """
    body = fixture("users_by_email_found.json")
    body[0]["email"] = email
    body[0]["app_metadata"] = copy.deepcopy(app_metadata or {})
    if holder:
        body[0]["app_metadata"].setdefault("purchase_holder", {"v": 1, "created_by_service": True})
    return list(body)


def created_user(*, email: str, app_metadata: dict[str, Any]) -> dict[str, Any]:
    body = fixture("user_created.json")
    body["email"] = email
    body["name"] = email
    body["app_metadata"] = copy.deepcopy(app_metadata)
    return dict(body)


def updated_user(*, app_metadata: dict[str, Any]) -> dict[str, Any]:
    body = fixture("user_updated.json")
    body["app_metadata"] = copy.deepcopy(app_metadata)
    return dict(body)


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]
    raises: Exception | None = None
    query: dict[str, str] | None = None


# The query strings the service's own calls must carry, written out here rather than imported, so that
# a wrong ``fields``, ``page`` or ``per_page`` in the code fails the replay. "*" means any non-empty value.
_SERVICE_QUERIES: list[tuple[str, re.Pattern[str], dict[str, str]]] = [
    (
        "GET",
        re.compile(r"^/users-by-email$"),
        {
            "email": "*",
            "fields": "user_id,email,email_verified,identities,app_metadata,created_at",
            "include_fields": "true",
        },
    ),
    ("GET", re.compile(r"^/users/[^/]+/roles$"), {"per_page": "100", "page": "0", "include_totals": "true"}),
]


def _expected_query(exchange: Exchange) -> dict[str, str] | None:
    if exchange.query is not None:
        return exchange.query
    for method, pattern, query in _SERVICE_QUERIES:
        if exchange.method == method and pattern.match(exchange.path):
            return query
    return None


def _check_query(request: httpx.Request, expected: dict[str, str] | None) -> None:
    if expected is None:
        return
    sent = dict(request.url.params.multi_items())
    if len(sent) != len(request.url.params.multi_items()):
        raise AssertionError(f"a query parameter is repeated in {request.url.query!r}")
    if set(sent) != set(expected) or any(
        (value == "*" and not sent[name]) or (value != "*" and sent[name] != value) for name, value in expected.items()
    ):
        raise AssertionError(f"expected the query {expected}, got {sent} for {request.method} {request.url.path}")


@dataclass
class Auth0Replay:
    """An httpx transport that answers each request with the next recorded exchange.

    A request that does not match the next exchange's method and path fails the test, so
    the script is also an exact assertion of which calls the service makes, in which order.
    """

    script: list[Exchange] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def reply(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raises: Exception | None = None,
        query: dict[str, str] | None = None,
    ) -> Auth0Replay:
        """Script the next answer. ``query`` is the exact query string expected (the service's own calls
        have theirs checked by default)."""
        self.script.append(Exchange(method, path, status, body, headers or {}, raises, query))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.script:
            raise AssertionError(f"unexpected Auth0 request {request.method} {request.url.path}")
        expected = self.script.pop(0)
        actual = (request.method, request.url.path)
        if actual != (expected.method, f"/api/v2{expected.path}"):
            raise AssertionError(f"expected {expected.method} /api/v2{expected.path}, got {actual}")
        _check_query(request, _expected_query(expected))
        if expected.raises is not None:
            raise expected.raises
        headers = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "49", "x-ratelimit-reset": "1893456000"}
        headers.update(expected.headers)
        if expected.body is None:
            return httpx.Response(expected.status, headers=headers)
        return httpx.Response(expected.status, json=expected.body, headers=headers)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def writes(self) -> list[httpx.Request]:
        return [request for request in self.requests if request.method != "GET"]

    def body_of(self, index: int) -> Any:
        return json.loads(self.requests[index].content)

    def assert_finished(self) -> None:
        assert not self.script, f"expected requests never made: {[(e.method, e.path) for e in self.script]}"


def echo_patch(replay: Auth0Replay) -> Callable[[], Any]:
    """The app_metadata the last PATCH sent, to feed the next step's lookup."""

    def last() -> Any:
        patches = [request for request in replay.requests if request.method == "PATCH"]
        return json.loads(patches[-1].content)["app_metadata"]

    return last


@pytest.fixture
def auth0_replay() -> Iterator[Auth0Replay]:
    """An ``Auth0Replay`` the service's Management API goes through; at teardown every scripted exchange must
    have been used, so a test that scripts a call the code never makes fails.

    Use it from a test module with ``from tests.auth0_replay import auth0_replay`` (and list it in ``__all__``).
    """
    from chalicelib import wiring  # here, not at the top: the replay itself serves tools that build their own client

    replay = Auth0Replay()
    wiring.use_auth0_transport(replay.transport)
    try:
        yield replay
    finally:
        wiring.use_auth0_transport(None)
    replay.assert_finished()
