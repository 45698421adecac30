"""The post-login trigger: every way of signing in runs the tenant's Actions with Node, and what they ask for happens.

Most tests run the repository's own ``actions/post-login.js`` against a loopback HTTP server standing in for the
service; the failure modes use small Actions written for the test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer
from tests.sandbox.browser import (
    TIMEOUT,
    Browser,
    Pkce,
    claims_of,
    code_from,
    exchange,
    redirect_query,
    refresh,
)
from tests.sandbox.support import PASSWORD, PERMISSION, ROLE, api, dev, fixture, login

CLAIM = "https://gumroad-auth0-gate/sign_in"
SECRET = "sandbox-test-post-login-secret"


@dataclass
class ServiceStandIn:
    """``POST /auth0/post-login`` on a loopback port; ``decide`` answers each request (and may act first)."""

    decide: Callable[[dict[str, Any]], dict[str, Any]]
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.received.append((dict(self.headers), body))
                payload = json.dumps(stand_in.decide(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/auth0/post-login"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def service() -> Iterator[ServiceStandIn]:
    stand_in = ServiceStandIn(decide=lambda body: {"result": "none"})
    yield stand_in
    stand_in.close()


@pytest.fixture
def tenant(service: ServiceStandIn) -> Iterator[SandboxServer]:
    secrets = {"POST_LOGIN_URL": service.url, "POST_LOGIN_SECRET": SECRET}
    with SandboxServer(port=0, state_path=None, action_secrets=secrets) as running:
        yield running


def write_action(folder: Path, body: str) -> Path:
    path = folder / "test-action.js"
    path.write_text(f"exports.onExecutePostLogin = async (event, api) => {{\n{body}\n}};\n", encoding="utf-8")
    return path


def google_sign_in(server: SandboxServer, email: str, *, verified: bool = True) -> tuple[Browser, dict[str, Any]]:
    browser, pkce = Browser(server), Pkce()
    answer = browser.google(pkce, email, verified=verified)
    tokens: dict[str, Any] = exchange(server, code_from(answer, pkce), pkce).json()
    return browser, tokens


def test_every_browser_login_runs_the_repositorys_action_which_asks_the_service_with_its_secret(
    tenant: SandboxServer, service: ServiceStandIn
) -> None:
    _, tokens = google_sign_in(tenant, "alice@example.com")
    user_id = claims_of(tokens["id_token"])["sub"]

    ((headers, body),) = service.received
    assert headers["Authorization"] == f"Bearer {SECRET}"
    assert body == {"user_id": user_id}
    assert CLAIM not in claims_of(tokens["id_token"])


def test_a_link_made_during_the_login_switches_it_to_the_primary_whose_courses_come_with_one_renewal(
    tenant: SandboxServer, service: ServiceStandIn
) -> None:
    primary = dev(tenant, "POST", "users", json={"email": "bob@example.com", "roles": [ROLE]}).json()

    def link_then_answer(body: dict[str, Any]) -> dict[str, Any]:
        # What the service does: link the identity that is signing in into the account holding the courses.
        secondary = body["user_id"]
        linked = api(
            tenant,
            "POST",
            f"/api/v2/users/{primary['user_id']}/identities",
            json={"provider": "google-oauth2", "user_id": secondary.split("|", 1)[1]},
        )
        assert linked.status_code == 201
        return {"result": "linked", "primary_user_id": primary["user_id"]}

    service.decide = link_then_answer
    browser, tokens = google_sign_in(tenant, "bob@example.com")

    identity, access = claims_of(tokens["id_token"]), claims_of(tokens["access_token"])
    assert identity["sub"] == access["sub"] == primary["user_id"]
    assert identity[CLAIM] == {"result": "linked", "renew": True}
    # Permissions as when the login started (the Google user had none): the app renews once to get the course.
    assert access["permissions"] == []
    renewed = refresh(tenant, tokens["refresh_token"]).json()
    assert claims_of(renewed["access_token"])["permissions"] == [PERMISSION]
    # The session is the primary's now: a silent sign-in comes back as the primary, without a call to make.
    service.decide = lambda body: pytest.fail("the holder signs in without a call")
    primary_record = api(
        tenant, "PATCH", f"/api/v2/users/{primary['user_id']}", json={"app_metadata": {"purchase_holder": {"v": 1}}}
    )
    assert primary_record.status_code == 200
    pkce = Pkce()
    silent = browser.authorize(pkce, prompt="none")
    again = exchange(tenant, code_from(silent, pkce), pkce).json()
    assert claims_of(again["id_token"])["sub"] == primary["user_id"]


def test_an_unverified_address_completes_the_login_with_the_reason(
    tenant: SandboxServer, service: ServiceStandIn
) -> None:
    service.decide = lambda body: {"result": "unverified"}
    _, tokens = google_sign_in(tenant, "carol@example.com", verified=False)

    assert claims_of(tokens["id_token"])[CLAIM] == {"result": "unverified", "connection": "google-oauth2"}


def test_a_service_that_is_down_never_blocks_the_login(tenant: SandboxServer, service: ServiceStandIn) -> None:
    service.close()
    pkce = Pkce()
    started = time.monotonic()
    answer = Browser(tenant).passwordless(pkce, "dan@example.com")
    tokens = exchange(tenant, code_from(answer, pkce), pkce).json()

    assert claims_of(tokens["id_token"])[CLAIM] == {"result": "unavailable"}
    assert time.monotonic() - started < 5


def test_the_password_grant_runs_it_and_the_repositorys_action_asks_the_service_nothing(
    tenant: SandboxServer, service: ServiceStandIn
) -> None:
    # The grant runs the Action (its event is checked below); scripts' logins are no sign-in to settle.
    dev(tenant, "POST", "users", json={"email": "erin@example.com", "password": PASSWORD})
    login(tenant, "erin@example.com", PASSWORD)

    assert service.received == []


def test_the_event_has_the_documented_shape_and_the_protocol_of_each_way_in(tmp_path: Path) -> None:
    action = write_action(
        tmp_path,
        """api.idToken.setCustomClaim("https://test/event", {
             keys: Object.keys(event).sort(),
             user: Object.keys(event.user).sort(),
             protocol: event.transaction.protocol,
             connection: event.connection.name,
             roles: event.authorization.roles,
           });""",
    )
    with SandboxServer(port=0, state_path=None, post_login_action=action) as server:
        dev(server, "POST", "users", json={"email": "fay@example.com", "password": PASSWORD, "roles": [ROLE]})
        browser, pkce = Browser(server), Pkce()
        tokens = exchange(server, browser.sign_in(pkce, "fay@example.com"), pkce).json()
        browser_event = claims_of(tokens["id_token"])["https://test/event"]
        refreshed = claims_of(refresh(server, tokens["refresh_token"]).json()["id_token"])["https://test/event"]
        password = claims_of(login(server, "fay@example.com", PASSWORD)["id_token"])["https://test/event"]

    recorded = fixture("post_login_event.json")
    assert isinstance(browser_event, dict)
    assert set(recorded) <= set(browser_event["keys"])
    assert {"app_metadata", "email", "email_verified", "identities", "user_id", "user_metadata"} <= set(
        browser_event["user"]
    )
    assert (browser_event["protocol"], browser_event["connection"]) == (
        "oidc-basic-profile",
        "Username-Password-Authentication",
    )
    assert browser_event["roles"] == ["course:serverless-handbook"]
    assert isinstance(refreshed, dict)
    assert isinstance(password, dict)
    assert (refreshed["protocol"], password["protocol"]) == ("oauth2-refresh-token", "oauth2-password")


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ('api.access.deny("not today");', "not today"),
        ('throw new Error("boom");', "boom"),
        ('api.idToken.setCustomClaim("sub", "someone-else");', 'Cannot set the custom claim "sub": it is reserved'),
        ('api.authentication.setPrimaryUser("auth0|000000000000000000000000");', "setPrimaryUser"),
    ],
)
def test_an_action_that_denies_or_fails_fails_the_login_back_at_the_application(
    tmp_path: Path, body: str, description: str
) -> None:
    with SandboxServer(port=0, state_path=None, post_login_action=write_action(tmp_path, body)) as server:
        browser = Browser(server)
        answer = browser.google(Pkce(), "gus@example.com")

        query = redirect_query(answer)
        assert query["error"] == "access_denied"
        assert description in query["error_description"]
        assert browser.session_cookie() is None  # no session opens


def test_an_action_past_its_time_limit_fails_the_login_in_time(tmp_path: Path) -> None:
    action = write_action(tmp_path, "await new Promise(() => {});")
    with SandboxServer(port=0, state_path=None, post_login_action=action, action_timeout_seconds=1) as server:
        started = time.monotonic()
        answer = Browser(server).google(Pkce(), "hal@example.com")
        took = time.monotonic() - started

    assert redirect_query(answer)["error_description"] == "Script execution time exceeded"
    assert 1 <= took < 4


def test_a_failing_action_at_the_token_endpoint_is_a_403_access_denied(tmp_path: Path) -> None:
    action = write_action(tmp_path, 'if (event.transaction.protocol === "oauth2-password") api.access.deny("no ROPG");')
    with SandboxServer(port=0, state_path=None, post_login_action=action) as server:
        dev(server, "POST", "users", json={"email": "ida@example.com", "password": PASSWORD})
        answer = requests.post(
            f"{server.base_url}/oauth/token",
            json={
                "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
                "client_id": "sandbox-login-client",
                "client_secret": "sandbox-login-client-secret-not-a-real-secret",
                "username": "ida@example.com",
                "password": PASSWORD,
                "realm": "Username-Password-Authentication",
            },
            timeout=TIMEOUT,
        )
    assert answer.status_code == 403
    assert answer.json() == {"error": "access_denied", "error_description": "no ROPG"}


def test_without_node_the_login_fails_and_says_why(tenant: SandboxServer) -> None:
    tenant.action_runner._node = "/nonexistent/node"
    answer = Browser(tenant).google(Pkce(), "jo@example.com")
    assert "error=access_denied" in answer.headers["Location"]
