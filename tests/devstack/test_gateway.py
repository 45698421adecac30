"""devstack.gateway: `chalice local` with API Gateway's whole proxy event and a backlog for bursts.

The event's fields are checked on their own; the rest runs the real app as the local stack runs it,
against the sandbox over loopback HTTP.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from email.message import Message

import pytest
from chalice.local import RouteMatcher

from devstack.gateway import ProxyEventConverter, RequestHeaders
from sandbox.server import SandboxServer
from sandbox.tenant.seeding import seed_user
from tests.integration.harness import CATALOGUE, ROOT, ChaliceLocal, chalice_local
from tests.simultaneous import all_at_once, post

SIMULTANEOUS = 40
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, state_path=None, catalogue=ROOT / CATALOGUE) as server:
        seed_user(
            server.tenant,
            email="student@example.com",
            connection=server.tenant.connection,
            password=PASSWORD,
            role_ids=[],
            app_metadata=None,
        )
        yield server


@pytest.fixture(scope="module")
def service(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaliceLocal]:
    with chalice_local(sandbox, tmp_path_factory.mktemp("gateway")) as local:
        yield local


def test_the_event_carries_every_header_line_and_query_value_as_api_gateway_does() -> None:
    message = Message()
    message["Authorization"] = "Bearer first"
    message["authorization"] = "Bearer second"
    message["Content-Type"] = "application/json"
    converter = ProxyEventConverter(RouteMatcher(["/private"]), [])

    event = converter.create_lambda_event("GET", "/private?a=1&a=2&b=3", RequestHeaders(message))

    assert event["multiValueHeaders"] == {
        "authorization": ["Bearer first", "Bearer second"],
        "content-type": ["application/json"],
    }
    assert event["headers"] == {"authorization": "Bearer second", "content-type": "application/json"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    assert event["queryStringParameters"] == {"a": "2", "b": "3"}
    bare = converter.create_lambda_event("GET", "/private", RequestHeaders(Message()))
    assert (bare["queryStringParameters"], bare["multiValueQueryStringParameters"], bare["multiValueHeaders"]) == (
        None,
        None,
        {},
    )


@pytest.mark.parametrize("path", ["/private", "/courses"])
def test_two_authorization_headers_are_a_400_on_the_local_stack_as_behind_api_gateway(
    sandbox: SandboxServer, service: ChaliceLocal, path: str
) -> None:
    token = sandbox.user_token("student@example.com")
    once = get_with_headers(service, path, [("Authorization", f"Bearer {token}")])
    twice = get_with_headers(service, path, [("Authorization", f"Bearer {token}")] * 2)

    assert once[0] == 200, once
    assert twice[0] == 400, twice
    assert twice[1]["error"] == "invalid_request"


def test_forty_simultaneous_logins_on_the_local_stack_are_all_answered(service: ChaliceLocal) -> None:
    port = int(service.base_url.rsplit(":", 1)[1])
    body = json.dumps({"username": "student@example.com", "password": PASSWORD})
    answers, _ = all_at_once(SIMULTANEOUS, lambda _: post(port, "/login", body, content_type="application/json"))
    assert [answer.failure for answer in answers if answer.failure] == []
    assert [answer.status for answer in answers] == [200] * SIMULTANEOUS
    print(f"\n{SIMULTANEOUS} simultaneous POST /login on the local stack: {len(answers)} answered 200")


def get_with_headers(service: ChaliceLocal, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, object]]:
    """GET with exactly these header lines, repeated names included (requests would merge them)."""
    connection = http.client.HTTPConnection("127.0.0.1", int(service.base_url.rsplit(":", 1)[1]), timeout=30)
    try:
        connection.putrequest("GET", path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()
