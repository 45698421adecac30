"""The offline Auth0 sandbox, over real HTTP on 127.0.0.1: auth0-python parses its answers, which
have the shapes of the recorded Auth0 fixtures; it rate limits, injects faults, persists and resets."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import requests
from auth0.authentication import Database, GetToken
from auth0.authentication.exceptions import Auth0Error, RateLimitError
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError
from auth0.management.errors import ConflictError, NotFoundError

from chalicelib.access.jwks import JwksCache
from chalicelib.access.verifier import AccessTokenVerifier
from chalicelib.config import load_access_settings
from sandbox.__main__ import main as sandbox_cli
from sandbox.server import SandboxServer
from sandbox.tenant.keys import SigningKey
from sandbox.tenant.state_file import StateFileError
from sandbox.tenant.tokens import TokenIssuer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "auth0"
REPOSITORY = Path(__file__).resolve().parent.parent.parent
TIMEOUT = 5.0
CONNECTION = "Username-Password-Authentication"
M2M_ID, M2M_SECRET = "sandbox-m2m-client", "sandbox-m2m-client-secret-not-a-real-secret"
LOGIN_ID, LOGIN_SECRET = "sandbox-login-client", "sandbox-login-client-secret-not-a-real-secret"
API_AUDIENCE = "https://courses.local/api"
ROLE, PERMISSION = "rol_LocalServerless01", "read:course:serverless-handbook"
OTHER_ROLE, OTHER_PERMISSION = "rol_LocalMembership2", "read:course:pro-membership"
USER_FIELDS = "user_id,email,identities,app_metadata"
PASSWORD = "correct horse battery"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    running = SandboxServer().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def fresh_tenant(server: SandboxServer) -> None:
    server.tenant.reset()
    server.faults.clear()
    server.stats.reset()
    server.limiter.configure(None)


@pytest.fixture
def management(server: SandboxServer) -> Iterator[Auth0]:
    with httpx.Client(timeout=TIMEOUT) as client:
        yield Auth0(
            base_url=f"{server.base_url}/api/v2",
            token=m2m_token(server),
            max_retries=0,
            httpx_client=client,
        )


def m2m_token(server: SandboxServer) -> str:
    answer = GetToken(server.domain, M2M_ID, client_secret=M2M_SECRET, protocol="http", telemetry=False)
    token = answer.client_credentials(audience=server.management_audience)["access_token"]
    assert isinstance(token, str)
    return token


def api(server: SandboxServer, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
    """A raw Management API request (the M2M token by default)."""
    headers = {"Authorization": f"Bearer {token or server.management_token()}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{server.base_url}{path}", headers=headers, timeout=TIMEOUT, **kwargs)


def dev(server: SandboxServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{server.base_url}/sandbox/{path}", timeout=TIMEOUT, **kwargs)


def create_buyer(server: SandboxServer, email: str = "buyer@example.com") -> dict[str, Any]:
    body = {
        "connection": CONNECTION,
        "email": email,
        "password": "Random-Password-1!",
        "email_verified": False,
        "verify_email": False,
        "app_metadata": {},
    }
    answer = api(server, "POST", "/api/v2/users", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def login(server: SandboxServer, email: str, password: str, forwarded_for: str | None = None) -> dict[str, Any]:
    client = GetToken(server.domain, LOGIN_ID, client_secret=LOGIN_SECRET, protocol="http", telemetry=False)
    answer: dict[str, Any] = client.login(
        username=email,
        password=password,
        realm=CONNECTION,
        audience=API_AUDIENCE,
        scope="openid",
        forwarded_for=forwarded_for,
    )
    return answer


def service_verifier(server: SandboxServer) -> AccessTokenVerifier:
    """The service's own verifier, configured the way the ``local`` stage configures it."""
    settings = load_access_settings({"AUTH0_DOMAIN": server.base_url, "AUTH0_AUDIENCE": API_AUDIENCE})
    keys = JwksCache(settings.jwks_url, algorithms=settings.algorithms)
    return AccessTokenVerifier(issuer=settings.issuer, audience=settings.audience, keys=keys)


# --- the recorded shapes: one source of truth -----------------------------------------------------


def test_a_created_user_has_exactly_the_keys_of_the_recorded_user_created(server: SandboxServer) -> None:
    created = create_buyer(server)
    recorded = fixture("user_created.json")
    assert set(created) == set(recorded)
    assert set(created["identities"][0]) == set(recorded["identities"][0])
    assert {key: type(value) for key, value in created.items()} == {key: type(value) for key, value in recorded.items()}
    assert re.fullmatch(r"auth0\|[0-9a-f]{24}", created["user_id"])
    assert created["identities"][0]["user_id"] == created["user_id"].split("|")[1]


def test_users_by_email_with_fields_answers_only_those_fields_like_the_recording(server: SandboxServer) -> None:
    create_buyer(server, "customer@example.com")
    answer = api(
        server,
        "GET",
        "/api/v2/users-by-email",
        params={"email": "customer@example.com", "fields": USER_FIELDS, "include_fields": "true"},
    )
    recorded = fixture("users_by_email_found.json")
    assert answer.status_code == 200
    assert [set(user) for user in answer.json()] == [set(user) for user in recorded]
    assert set(answer.json()[0]["identities"][0]) == set(recorded[0]["identities"][0])


def test_a_social_user_found_by_email_has_the_shape_of_the_recorded_social_only_answer(
    server: SandboxServer,
) -> None:
    seeded = dev(server, "POST", "users", json={"email": "customer@example.com", "connection": "google-oauth2"})
    assert seeded.status_code == 201
    answer = api(
        server, "GET", "/api/v2/users-by-email", params={"email": "customer@example.com", "fields": USER_FIELDS}
    )
    recorded = fixture("users_by_email_social_only.json")
    assert [set(user) for user in answer.json()] == [set(user) for user in recorded]
    assert answer.json()[0]["identities"][0] | {"user_id": "x"} == recorded[0]["identities"][0] | {"user_id": "x"}
    assert re.fullmatch(r"google-oauth2\|\d{21}", answer.json()[0]["user_id"])


def test_a_patched_user_who_signed_in_has_exactly_the_keys_of_the_recorded_user_updated(
    server: SandboxServer,
) -> None:
    user = create_buyer(server)
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    login(server, "buyer@example.com", PASSWORD)
    answer = api(server, "PATCH", f"/api/v2/users/{user['user_id']}", json={"app_metadata": {"k": {"v": 1}}})
    recorded = fixture("user_updated.json")
    assert answer.status_code == 200
    assert set(answer.json()) == set(recorded)
    assert answer.json()["logins_count"] == 1


def test_user_roles_with_totals_have_the_shape_of_the_recorded_pages(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    path = f"/api/v2/users/{user_id}/roles"
    query = {"per_page": "100", "page": "0", "include_totals": "true"}
    assert api(server, "GET", path, params=query).json() == fixture("user_roles_empty.json")
    api(server, "POST", path, json={"roles": [ROLE]})
    page = api(server, "GET", path, params=query).json()
    recorded = fixture("user_roles.json")
    assert set(page) == set(recorded)
    assert (page["start"], page["limit"], page["total"]) == (0, 100, 1)
    assert set(page["roles"][0]) == set(recorded["roles"][0])


def test_error_bodies_equal_the_recorded_409_404_and_403(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    duplicate = api(
        server,
        "POST",
        "/api/v2/users",
        json={"connection": CONNECTION, "email": "buyer@example.com", "password": PASSWORD},
    )
    unknown_role = api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": ["rol_Nope"]})
    narrow = server.management_token(scope="read:users")
    no_scope = api(server, "POST", f"/api/v2/users/{user_id}/roles", token=narrow, json={"roles": [ROLE]})
    assert (duplicate.status_code, duplicate.json()) == (409, fixture("error_409_user_exists.json"))
    assert (unknown_role.status_code, unknown_role.json()) == (404, fixture("error_404_role.json"))
    assert (no_scope.status_code, no_scope.json()) == (403, fixture("error_403_insufficient_scope.json"))


def test_an_expired_management_token_gets_the_recorded_401(server: SandboxServer) -> None:
    expired = server.management_token(issued_at=int(time.time()) - 90_000)
    answer = api(server, "GET", "/api/v2/users-by-email", token=expired, params={"email": "a@example.com"})
    assert (answer.status_code, answer.json()) == (401, fixture("error_401_invalid_token.json"))


def test_the_token_endpoint_answers_with_the_recorded_keys_and_the_recorded_refusal(server: SandboxServer) -> None:
    url = f"{server.base_url}/oauth/token"
    body = {"grant_type": "client_credentials", "client_id": M2M_ID, "audience": server.management_audience}
    granted = requests.post(url, json={**body, "client_secret": M2M_SECRET}, timeout=TIMEOUT)
    refused = requests.post(url, data={**body, "client_secret": "wrong"}, timeout=TIMEOUT)
    recorded = fixture("oauth_token_client_credentials.json")
    assert {key: type(value) for key, value in granted.json().items()} == {
        key: type(value) for key, value in recorded.items()
    }
    assert granted.json()["scope"] == recorded["scope"]
    assert granted.json()["expires_in"] == 86400
    assert (refused.status_code, refused.json()) == (401, fixture("oauth_token_access_denied.json"))


def test_change_password_answers_auth0s_text_and_puts_a_one_time_ticket_in_the_outbox(server: SandboxServer) -> None:
    create_buyer(server)
    text = Database(server.domain, M2M_ID, protocol="http", telemetry=False).change_password(
        email="buyer@example.com", connection=CONNECTION
    )
    assert text == (FIXTURES / "dbconnections_change_password.txt").read_text(encoding="utf-8").strip()
    (message,) = dev(server, "GET", "outbox", params={"to": "buyer@example.com"}).json()["messages"]
    assert message["kind"] == "password_reset"
    assert message["ticket_url"] == f"{server.base_url}/lo/reset?ticket={message['ticket']}"
    shown = dev(server, "GET", "set-password", params={"ticket": message["ticket"]}).json()
    assert (shown["email"], shown["set_password"]["json"]["ticket"]) == ("buyer@example.com", message["ticket"])
    first = dev(server, "POST", "set-password", json={"ticket": message["ticket"], "password": PASSWORD})
    again = dev(server, "POST", "set-password", json={"ticket": message["ticket"], "password": PASSWORD})
    assert first.status_code == 200
    assert first.json()["email_verified"] is True
    assert (again.status_code, again.json()["errorCode"]) == (400, "invalid_ticket")


def test_change_password_for_an_unknown_address_answers_the_same_and_sends_nothing(server: SandboxServer) -> None:
    text = Database(server.domain, M2M_ID, protocol="http", telemetry=False).change_password(
        email="nobody@example.com", connection=CONNECTION
    )
    assert text.startswith("We've just sent you an email")
    assert dev(server, "GET", "outbox").json()["messages"] == []


# --- auth0-python against the sandbox ---------------------------------------------------------------


def test_auth0_python_finds_creates_assigns_lists_merges_and_removes(server: SandboxServer, management: Auth0) -> None:
    assert (
        management.users.list_users_by_email(email="buyer@example.com", fields=USER_FIELDS, include_fields=True) == []
    )
    created = management.users.create(
        connection=CONNECTION,
        email="Buyer@Example.com",
        password="Random-Password-1!",
        email_verified=False,
        verify_email=False,
        app_metadata={"purchase:a": {"sale": "a"}},
        name="Ada Buyer",
    )
    assert created.user_id is not None
    user_id = created.user_id
    (found,) = management.users.list_users_by_email(email="buyer@example.com", fields=USER_FIELDS, include_fields=True)
    assert (found.user_id, found.email, found.identities[0].connection) == (user_id, "buyer@example.com", CONNECTION)
    management.users.roles.assign(user_id, roles=[ROLE])
    management.users.roles.assign(user_id, roles=[ROLE])  # idempotent, as in Auth0
    pager = management.users.roles.list(user_id, per_page=100, page=0, include_totals=True)
    assert [role.id for role in pager.items or []] == [ROLE]
    management.users.update(user_id, app_metadata={"purchase:b": {"sale": "b"}})
    merged = management.users.update(user_id, app_metadata={"purchase:a": None})
    assert merged.app_metadata == {"purchase:b": {"sale": "b"}}
    assert management.users.get(user_id).name == "Ada Buyer"
    management.users.roles.delete(user_id, roles=[ROLE])
    assert management.users.roles.list(user_id, per_page=100, page=0, include_totals=True).items == []


def test_auth0_python_raises_conflict_for_an_address_that_differs_only_in_case(
    server: SandboxServer, management: Auth0
) -> None:
    create_buyer(server, "buyer@example.com")
    with pytest.raises(ConflictError) as raised:
        management.users.create(connection=CONNECTION, email="BUYER@example.com", password="Random-Password-1!")
    assert raised.value.body["errorCode"] == "auth0_idp_error"


def test_users_by_email_is_an_exact_case_sensitive_match_on_lower_cased_addresses(
    server: SandboxServer, management: Auth0
) -> None:
    create_buyer(server, "Mixed.Case@Example.com")
    assert management.users.list_users_by_email(email="Mixed.Case@Example.com") == []
    assert len(management.users.list_users_by_email(email="mixed.case@example.com")) == 1
    assert management.users.list_users_by_email(email="mixed.case@example.co") == []


def test_unknown_users_are_404_inexistent_user_for_every_user_endpoint(
    server: SandboxServer, management: Auth0
) -> None:
    missing = "auth0|000000000000000000000000"
    calls: list[Callable[[], object]] = [
        lambda: management.users.get(missing),
        lambda: management.users.update(missing, app_metadata={"k": {}}),
        lambda: management.users.roles.assign(missing, roles=[ROLE]),
        lambda: management.users.roles.delete(missing, roles=[ROLE]),
        lambda: management.users.roles.list(missing, per_page=100, page=0, include_totals=True),
        lambda: management.jobs.verification_email.create(user_id=missing),
    ]
    for call in calls:
        # auth0-python raises NotFoundError where the endpoint's spec lists a 404, ApiError elsewhere.
        with pytest.raises(ApiError) as raised:
            call()
        assert (raised.value.status_code, raised.value.body["errorCode"]) == (404, "inexistent_user")
    with pytest.raises(NotFoundError):
        management.users.get(missing)


def test_a_verification_email_job_is_created_and_lands_in_the_outbox(server: SandboxServer, management: Auth0) -> None:
    user_id = create_buyer(server)["user_id"]
    job = management.jobs.verification_email.create(user_id=user_id)
    assert (job.type, job.status) == ("verification_email", "pending")
    assert [message["kind"] for message in dev(server, "GET", "outbox").json()["messages"]] == ["verification_email"]


def test_creating_with_verify_email_sends_a_verification_email(server: SandboxServer, management: Auth0) -> None:
    management.users.create(connection=CONNECTION, email="v@example.com", password=PASSWORD, verify_email=True)
    messages = dev(server, "GET", "outbox", params={"to": "v@example.com"}).json()["messages"]
    assert [message["kind"] for message in messages] == ["verification_email"]


# --- bad requests get Auth0's answers, never a traceback ------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "Invalid request payload JSON format"),
        (b"[]", "Expected type object but found type array"),
        (
            json.dumps({"email": "a@example.com", "password": PASSWORD}).encode(),
            "Missing required property: connection",
        ),
        (json.dumps({"connection": CONNECTION, "email": 7}).encode(), "Expected type string but found type integer"),
        (json.dumps({"connection": CONNECTION, "email": "not-an-email"}).encode(), "format email"),
        (json.dumps({"connection": CONNECTION, "email": "a@example.com", "x": 1}).encode(), "Additional properties"),
    ],
)
def test_bad_user_bodies_get_400_invalid_body(server: SandboxServer, body: bytes, fragment: str) -> None:
    answer = api(server, "POST", "/api/v2/users", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "invalid_body"
    assert answer.json()["error"] == "Bad Request"
    assert fragment in answer.json()["message"]


def test_other_bad_requests_get_auth0_shaped_400s(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    answers = [
        api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": []}),
        api(server, "DELETE", f"/api/v2/users/{user_id}/roles", json={"roles": "rol"}),
        api(server, "PATCH", f"/api/v2/users/{user_id}", json={}),
        api(server, "GET", f"/api/v2/users/{user_id}/roles", params={"per_page": "101"}),
        api(server, "GET", "/api/v2/users-by-email"),
        api(
            server, "POST", "/api/v2/users", json={"connection": "nope", "email": "a@example.com", "password": PASSWORD}
        ),
        api(
            server, "POST", "/api/v2/users", json={"connection": CONNECTION, "email": "a@example.com", "password": "x"}
        ),
    ]
    assert [answer.status_code for answer in answers] == [400] * len(answers)
    assert [answer.json()["errorCode"] for answer in answers] == [
        "invalid_body",
        "invalid_body",
        "invalid_body",
        "invalid_query_string",
        "invalid_query_string",
        "inexistent_connection",
        "invalid_password",
    ]


def test_the_management_api_accepts_only_unexpired_m2m_tokens_it_issued(server: SandboxServer) -> None:
    path, query = "/api/v2/users-by-email", {"email": "a@example.com"}
    forged = TokenIssuer(SigningKey.generate(), server.issuer).access_token(
        subject="x@clients", audience=server.management_audience, client_id="x", scope="read:users", lifetime=60
    )
    create_buyer(server)
    user_token = server.user_token("buyer@example.com")
    bare = requests.get(f"{server.base_url}{path}", params=query, timeout=TIMEOUT)
    assert (bare.status_code, bare.json()["message"]) == (401, "Missing authentication")
    for token, message in [
        ("not-a-jwt", "Invalid token"),
        (forged, "Invalid token"),
        (user_token, "Bad audience: https://courses.local/api " + f"{server.base_url}/userinfo"),
    ]:
        answer = api(server, "GET", path, token=token, params=query)
        assert (answer.status_code, answer.json()["message"]) == (401, message)


def test_unknown_paths_wrong_methods_and_broken_http_get_json_errors(server: SandboxServer) -> None:
    unknown = requests.get(f"{server.base_url}/nope", timeout=TIMEOUT)
    wrong_method = api(server, "PUT", "/api/v2/users")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"statusCode": 404, "error": "Not Found", "message": "Not Found"},
    )
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    for raw in [
        b"GET /nope extra HTTP/1.1\r\n\r\n",
        b"POST /api/v2/users HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ]:
        status, body = raw_exchange(server, raw)
        assert status in (400, 411, 413)
        assert json.loads(body)["statusCode"] == status


def raw_exchange(server: SandboxServer, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_an_unexpected_exception_is_an_auth0_shaped_500_without_a_traceback(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(email: str) -> list[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.tenant, "users_by_email", explode)
    answer = api(server, "GET", "/api/v2/users-by-email", params={"email": "a@example.com"})
    assert (answer.status_code, answer.json()) == (500, fixture("error_500_internal.json"))
    assert "boom" not in answer.text


# --- the Authentication API -----------------------------------------------------------------------


def test_client_credentials_with_a_wrong_secret_is_401_access_denied(server: SandboxServer) -> None:
    client = GetToken(server.domain, M2M_ID, client_secret="wrong", protocol="http", telemetry=False)
    with pytest.raises(Auth0Error) as raised:
        client.client_credentials(audience=server.management_audience)
    assert (raised.value.status_code, raised.value.error_code) == (401, "access_denied")


def test_client_credentials_only_for_the_management_api_audience(server: SandboxServer) -> None:
    client = GetToken(server.domain, M2M_ID, client_secret=M2M_SECRET, protocol="http", telemetry=False)
    for audience in (API_AUDIENCE, "https://elsewhere.example/api/v2/"):
        with pytest.raises(Auth0Error) as raised:
            client.client_credentials(audience=audience)
        assert (raised.value.status_code, raised.value.error_code) == (403, "access_denied")


def test_sign_in_gives_a_token_with_the_assigned_roles_that_the_services_verifier_accepts(
    server: SandboxServer,
) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE, OTHER_ROLE]})
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    answer = login(server, "buyer@example.com", PASSWORD, forwarded_for="203.0.113.7")
    assert set(answer) == {"access_token", "id_token", "scope", "expires_in", "token_type"}
    verified = service_verifier(server).verify(answer["access_token"])
    assert verified.subject == user_id
    assert verified.grants(PERMISSION)
    assert verified.grants(OTHER_PERMISSION)
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert set(claims) >= {"iss", "sub", "aud", "iat", "exp", "azp", "scope", "permissions"}
    assert claims["iss"] == f"{server.base_url}/"
    assert jwt.get_unverified_header(answer["access_token"])["kid"]
    (entry,) = dev(server, "GET", "state").json()["logins"]
    assert (entry["forwarded_for"], entry["ip"], entry["outcome"]) == ("203.0.113.7", "203.0.113.7", "success")


def test_wrong_passwords_are_403_then_the_user_and_ip_are_blocked_with_429(server: SandboxServer) -> None:
    create_buyer(server)
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    for _ in range(10):
        with pytest.raises(Auth0Error) as wrong:
            login(server, "buyer@example.com", "wrong password", forwarded_for="198.51.100.1")
        assert (wrong.value.status_code, wrong.value.error_code) == (403, "invalid_grant")
        assert wrong.value.message == "Wrong email or password."
    with pytest.raises(RateLimitError) as blocked:
        login(server, "buyer@example.com", PASSWORD, forwarded_for="198.51.100.1")
    assert blocked.value.error_code == "too_many_attempts"
    assert login(server, "buyer@example.com", PASSWORD, forwarded_for="198.51.100.2")["access_token"]
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    assert login(server, "buyer@example.com", PASSWORD, forwarded_for="198.51.100.1")["access_token"]


def test_an_unknown_user_or_a_user_without_password_gets_wrong_email_or_password(server: SandboxServer) -> None:
    create_buyer(server)
    for email, password in (("nobody@example.com", PASSWORD), ("buyer@example.com", "Random-Password-2!")):
        with pytest.raises(Auth0Error) as raised:
            login(server, email, password)
        assert (raised.value.status_code, raised.value.error_code) == (403, "invalid_grant")


def test_the_m2m_client_may_not_use_the_password_grant(server: SandboxServer) -> None:
    client = GetToken(server.domain, M2M_ID, client_secret=M2M_SECRET, protocol="http", telemetry=False)
    with pytest.raises(Auth0Error) as raised:
        client.login(username="a@example.com", password=PASSWORD, realm=CONNECTION, audience=API_AUDIENCE)
    assert (raised.value.status_code, raised.value.error_code) == (403, "unauthorized_client")


def test_discovery_names_the_issuer_and_a_jwks_without_private_parts(server: SandboxServer) -> None:
    discovery = requests.get(f"{server.base_url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert discovery["issuer"] == f"{server.base_url}/"
    assert discovery["jwks_uri"] == f"{server.base_url}/.well-known/jwks.json"
    assert discovery["token_endpoint"] == f"{server.base_url}/oauth/token"
    (key,) = requests.get(discovery["jwks_uri"], timeout=TIMEOUT).json()["keys"]
    assert set(key) == {"kty", "use", "alg", "kid", "n", "e"}
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")


# --- tokens for sandbox users ------------------------------------------------------------------------


def test_the_token_endpoint_for_a_user_follows_role_changes_and_verifies_against_the_jwks(
    server: SandboxServer,
) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    granted = dev(server, "POST", "token", json={"email": "Buyer@Example.com"}).json()
    api(server, "DELETE", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    revoked = dev(server, "POST", "token", json={"email": "buyer@example.com"}).json()
    assert (granted["token_type"], granted["expires_in"]) == ("Bearer", 86400)
    keys = jwt.PyJWKClient(server.jwks_url)
    claims = jwt.decode(
        granted["access_token"],
        keys.get_signing_key_from_jwt(granted["access_token"]).key,
        algorithms=["RS256"],
        audience=API_AUDIENCE,
        issuer=f"{server.base_url}/",
    )
    assert (claims["sub"], claims["permissions"]) == (user_id, [PERMISSION])
    assert not service_verifier(server).verify(revoked["access_token"]).grants(PERMISSION)


def test_the_token_endpoint_for_an_unknown_address_is_an_auth0_404(server: SandboxServer) -> None:
    answer = dev(server, "POST", "token", json={"email": "nobody@example.com"})
    assert (answer.status_code, answer.json()["errorCode"]) == (404, "inexistent_user")


def test_the_cli_prints_a_token_signed_with_the_key_in_the_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(state_path=state) as running:
        user_id = create_buyer(running)["user_id"]
        api(running, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
        assert sandbox_cli(["token", "buyer@example.com", "--state", str(state)]) == 0
        token = capsys.readouterr().out.strip()
        verified = service_verifier(running).verify(token)
        assert (verified.subject, verified.grants(PERMISSION)) == (user_id, True)
        assert sandbox_cli(["token", "nobody@example.com", "--state", str(state)]) == 1


# --- rate limit ---------------------------------------------------------------------------------


def test_a_free_tier_limit_answers_headers_then_auth0s_429_until_the_reset(server: SandboxServer) -> None:
    assert dev(server, "POST", "config", json={"rate_limit": 2, "burst": 2}).json()["burst"] == 2
    query = {"email": "a@example.com"}
    answers = [api(server, "GET", "/api/v2/users-by-email", params=query) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["1", "0", "0"]
    assert {answer.headers["x-ratelimit-limit"] for answer in answers} == {"2"}
    assert answers[2].json() == fixture("error_429_too_many_requests.json")
    reset = int(answers[2].headers["x-ratelimit-reset"])
    assert time.time() - 1 <= reset <= time.time() + 2
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    assert api(server, "GET", "/api/v2/users-by-email", params=query).status_code == 200
    assert dev(server, "GET", "stats").json()["rate_limited"] == 1


def test_auth0_python_sees_a_429_as_too_many_requests_with_the_reset_header(
    server: SandboxServer, management: Auth0
) -> None:
    dev(server, "POST", "config", json={"rate_limit": 0.1, "burst": 1})
    management.users.list_users_by_email(email="a@example.com")
    with pytest.raises(ApiError) as raised:
        management.users.list_users_by_email(email="a@example.com")
    assert raised.value.status_code == 429
    assert raised.value.headers is not None
    assert "x-ratelimit-reset" in raised.value.headers


def test_the_rate_limit_is_off_by_default_and_null_turns_it_off(server: SandboxServer) -> None:
    assert "x-ratelimit-limit" not in api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).headers
    dev(server, "POST", "config", json={"rate_limit": 5})
    assert api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).headers["x-ratelimit-limit"] == "5"
    assert dev(server, "POST", "config", json={"rate_limit": None}).json()["rate_limit"] is None
    assert "x-ratelimit-limit" not in api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).headers


def test_the_constructor_limit_applies_to_the_management_api_only(tmp_path: Path) -> None:
    with SandboxServer(rate_limit=0.1, burst=1, catalogue=None) as limited:
        first = api(limited, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"})
        second = api(limited, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"})
        discovery = requests.get(f"{limited.base_url}/.well-known/jwks.json", timeout=TIMEOUT)
    assert (first.status_code, second.status_code, discovery.status_code) == (200, 429, 200)
    assert "x-ratelimit-limit" not in discovery.headers


def test_a_bad_rate_limit_configuration_is_refused(server: SandboxServer) -> None:
    for body in ({"rate_limit": -1}, {"rate_limit": "fast"}, {"rate_limit": 2, "burst": 0}, {"burst": 2}):
        answer = dev(server, "POST", "config", json=body)
        assert (answer.status_code, answer.json()["statusCode"]) == (400, 400)


# --- faults and counters -------------------------------------------------------------------------


def test_faults_fail_the_next_n_matching_requests_with_auth0_shaped_5xx(
    server: SandboxServer, management: Auth0
) -> None:
    fault = {"status": 503, "count": 2, "paths": "/api/v2/users-by-email"}
    assert dev(server, "POST", "faults", json=fault).status_code == 201
    user_id = create_buyer(server)["user_id"]  # another path: unaffected
    for _ in range(2):
        with pytest.raises(ApiError) as raised:
            management.users.list_users_by_email(email="buyer@example.com")
        assert raised.value.status_code == 503
        assert raised.value.body == {
            "statusCode": 503,
            "error": "Service Unavailable",
            "message": "Service Unavailable",
        }
    assert management.users.list_users_by_email(email="buyer@example.com")[0].user_id == user_id
    assert dev(server, "GET", "stats").json()["faults_injected"] == 2


def test_a_delay_fault_slows_the_answer_and_delete_clears_faults(server: SandboxServer) -> None:
    dev(server, "POST", "faults", json={"status": None, "delay_seconds": 0.3, "count": 5})
    started = time.monotonic()
    assert api(server, "GET", "/api/v2/users-by-email", params={"email": "a@b.c"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert dev(server, "DELETE", "faults").status_code == 204
    assert dev(server, "GET", "faults").json() == {"faults": []}


def test_a_fault_on_the_token_endpoint_reaches_get_token_as_a_rate_limit(server: SandboxServer) -> None:
    dev(server, "POST", "faults", json={"status": 429, "paths": "/oauth/token"})
    with pytest.raises(RateLimitError):
        m2m_token(server)
    assert m2m_token(server)


@pytest.mark.parametrize(
    "fault",
    [{"status": 404}, {"count": 0}, {"delay_seconds": 99}, {"paths": "/sandbox/state"}, {"status": None}, {"x": 1}],
)
def test_a_bad_fault_definition_is_a_400(server: SandboxServer, fault: dict[str, Any]) -> None:
    assert dev(server, "POST", "faults", json=fault).status_code == 400


def test_stats_count_requests_per_endpoint_and_can_be_reset(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    m2m_token(server)
    stats = dev(server, "GET", "stats").json()
    assert stats["requests"] == {
        "POST /api/v2/users": 1,
        "POST /api/v2/users/{id}/roles": 2,
        "POST /oauth/token": 1,
    }
    assert (stats["management_requests"], stats["authentication_requests"]) == (3, 1)
    assert stats["responses"] == {"200": 1, "201": 1, "204": 2}
    assert dev(server, "DELETE", "stats").status_code == 204
    assert dev(server, "GET", "stats").json()["requests"] == {}


# --- state: persistence, reset, dev views -----------------------------------------------------------


def test_a_restart_keeps_users_roles_passwords_outbox_and_key_but_stores_no_password(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(state_path=state) as first:
        user_id = create_buyer(first)["user_id"]
        api(first, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
        Database(first.domain, M2M_ID, protocol="http", telemetry=False).change_password(
            email="buyer@example.com", connection=CONNECTION
        )
        (message,) = dev(first, "GET", "outbox").json()["messages"]
        dev(first, "POST", "set-password", json={"ticket": message["ticket"], "password": PASSWORD})
        kid = jwt.get_unverified_header(first.user_token("buyer@example.com"))["kid"]
    saved = state.read_text(encoding="utf-8")
    assert PASSWORD not in saved
    assert "scrypt$" in saved
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json", "state.json.lock"]  # no temp files
    with SandboxServer(state_path=state) as second:
        roles = api(second, "GET", f"/api/v2/users/{user_id}/roles", params={"include_totals": "true"}).json()
        assert [role["id"] for role in roles["roles"]] == [ROLE]
        assert len(dev(second, "GET", "outbox").json()["messages"]) == 1
        token = login(second, "buyer@example.com", PASSWORD)["access_token"]
        assert jwt.get_unverified_header(token)["kid"] == kid
        assert service_verifier(second).verify(token).grants(PERMISSION)


def test_the_reset_command_forgets_users_and_keeps_the_key_unless_asked(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(state_path=state) as running:
        create_buyer(running)
    kid = json.loads(state.read_text(encoding="utf-8"))["signing_key"]["kid"]
    assert sandbox_cli(["reset", "--state", str(state)]) == 0
    after = json.loads(state.read_text(encoding="utf-8"))
    assert (after["users"], after["signing_key"]["kid"]) == ([], kid)
    assert sandbox_cli(["reset", "--state", str(state), "--new-key"]) == 0
    assert json.loads(state.read_text(encoding="utf-8"))["signing_key"]["kid"] != kid


def test_an_unreadable_state_file_is_refused_with_a_message_and_reset_repairs_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{broken", encoding="utf-8")
    with pytest.raises(StateFileError, match="sandbox reset"):
        SandboxServer(state_path=state)
    assert sandbox_cli(["reset", "--state", str(state)]) == 0
    SandboxServer(state_path=state)


def test_the_reset_endpoint_clears_users_faults_and_counters(server: SandboxServer) -> None:
    create_buyer(server)
    dev(server, "POST", "faults", json={"status": 500, "paths": "/oauth/token"})
    assert dev(server, "POST", "reset", headers={"Content-Type": "application/json"}).status_code == 204
    state = dev(server, "GET", "state").json()
    assert (state["users"], state["faults"]) == ([], [])
    assert [role["id"] for role in state["roles"]] == [ROLE, OTHER_ROLE]
    assert dev(server, "GET", "stats").json()["requests"] == {}


def test_dev_views_show_users_roles_and_permissions_but_no_password_hash(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    (user,) = dev(server, "GET", "users").json()["users"]
    state = dev(server, "GET", "state").text
    assert (user["permissions"], user["has_password"]) == ([PERMISSION], True)
    assert "password_hash" not in state
    assert "scrypt" not in state
    assert json.loads(state)["issuer"] == f"{server.base_url}/"


def test_only_loopback_hosts_are_served() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(host="0.0.0.0")  # noqa: S104 - the point of the test
    assert sandbox_cli(["serve", "--host", "192.0.2.1", "--port", "0"]) == 2


def test_python_m_sandbox_serve_starts_on_the_given_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--state", str(tmp_path / "s.json"), "--quiet"],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert base_url is not None, banner
        jwks = requests.get(f"{base_url.group(0)}/.well-known/jwks.json", timeout=TIMEOUT)
        assert jwks.status_code == 200
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
