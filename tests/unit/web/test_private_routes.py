"""The four private routes end to end through Chalice: RFC 6750 answers, courses, CORS, outages.

The environment is set per test; the JWKS is served by a real HTTP server on a loopback port.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import string
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app as chalice_app
from chalicelib import wiring
from chalicelib.web.private_routes import preflight_answer
from tests.tokens import (
    AUDIENCE,
    SUBJECT,
    Answer,
    LoopbackJwksServer,
    ScriptedServer,
    claims,
    jwks,
    loopback_jwks,
    rsa_key,
    sign,
)

REALM = 'Bearer realm="gumroad-auth0-gate"'
SPA_ORIGIN = "https://app.example.com"
APP_DIR = Path(__file__).resolve().parents[3]
COURSES_FILE = "tests/fixtures/courses.test.json"
PENCIL = {"slug": "pencil-icons", "title": "Pencil Icon PSD"}
PRO = {"slug": "pro-membership", "title": "Pro Membership"}
ACCESS_VARIABLES = (
    "AUTH0_AUDIENCE",
    "AUTH0_ISSUER",
    "AUTH0_DOMAIN",
    "AUTH0_JWKS_URL",
    "AUTH0_ALGORITHMS",
    "AUTH0_LEEWAY_SECONDS",
    "AUTH0_NAME_CLAIM",
    "CORS_ALLOW_ORIGIN",
)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ACCESS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH0_AUDIENCE", AUDIENCE)
    # Issuer and JWKS URL are derived from the domain, as in most deployments.
    monkeypatch.setenv("AUTH0_DOMAIN", "tenant.example.auth0.com")
    monkeypatch.setenv("COURSES_FILE", COURSES_FILE)
    wiring.clear_caches()
    yield
    wiring.clear_caches()


@pytest.fixture
def tenant(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackJwksServer]:
    """The Auth0 tenant's JWKS endpoint on a loopback port; ``tenant.requests`` counts fetches."""
    with loopback_jwks(rsa_key("k1")) as server:
        monkeypatch.setenv("AUTH0_JWKS_URL", server.url)
        wiring.clear_caches()
        yield server


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    # An empty project dir: the stage variables of .chalice/config.json stay out, so each
    # test's environment is exactly what it sets.
    with Client(chalice_app, project_dir=str(tmp_path)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(**overrides: Any) -> str:
    return sign(rsa_key("k1"), claims(**overrides))


def body_of(response: Any) -> Any:
    return json.loads(response.body)


def assert_challenge_matches_body(response: Any) -> None:
    """The header's error and error_description say exactly what the JSON body says."""
    challenge = response.headers["WWW-Authenticate"]
    attributes = dict(re.findall(r'(\w+)="([^"\\]*)"', challenge))
    body = body_of(response)
    assert attributes["error"] == body["error"]
    assert attributes["error_description"] == body["error_description"]


def post_json(client: Client, document: Any, **headers: str) -> Any:
    return client.http.post(
        "/verify",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps(document).encode(),
    )


# --- GET /private -----------------------------------------------------------------------------


def test_private_greets_the_subject_of_a_valid_token(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.get("/private", headers=bearer(token_for()))
    assert response.status_code == 200
    assert body_of(response) == {"message": f"Hello {SUBJECT}"}
    assert response.headers["Cache-Control"] == "no-store"


def test_private_greets_by_the_configured_name_claim(
    client: Client, tenant: LoopbackJwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH0_NAME_CLAIM", "https://courses.example.com/name")
    token = token_for(**{"https://courses.example.com/name": "Ada Lovelace"})
    response = client.http.get("/private", headers=bearer(token))
    assert body_of(response) == {"message": "Hello Ada Lovelace"}


def test_private_falls_back_to_sub_when_the_name_claim_is_not_a_string(
    client: Client, tenant: LoopbackJwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH0_NAME_CLAIM", "name")
    response = client.http.get("/private", headers=bearer(token_for(name=["Ada"])))
    assert body_of(response) == {"message": f"Hello {SUBJECT}"}


# --- RFC 6750 answers -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/private", "/courses", "/courses/pencil-icons"])
def test_no_credentials_is_a_401_with_a_bare_bearer_challenge(
    client: Client, tenant: LoopbackJwksServer, path: str
) -> None:
    response = client.http.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == REALM
    assert body_of(response)["error"] == "unauthorized"
    assert tenant.requests == 0  # nothing to verify, nothing fetched


def test_another_scheme_is_a_401_with_a_bare_bearer_challenge(client: Client) -> None:
    response = client.http.get("/courses", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == REALM


def test_the_scheme_is_case_insensitive(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.get("/private", headers={"authorization": f"bEaReR {token_for()}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "value",
    ["", "Bearer", "Bearer a b", "Bearer a, Bearer b", 'Bearer "x"'],
    ids=["empty", "empty-bearer", "two-tokens", "two-credentials", "bad-characters"],
)
def test_a_malformed_authorization_header_is_a_400_invalid_request(client: Client, value: str) -> None:
    response = client.http.get("/courses", headers={"Authorization": value})
    assert response.status_code == 400
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(REALM + ', error="invalid_request", error_description="')
    assert body_of(response)["error"] == "invalid_request"
    assert_challenge_matches_body(response)


def test_a_header_plus_an_access_token_query_parameter_is_a_400(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.get("/courses?access_token=abc", headers=bearer(token_for()))
    assert response.status_code == 400
    assert body_of(response)["error"] == "invalid_request"


def test_a_token_in_the_query_string_alone_is_not_accepted(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.get(f"/courses?access_token={token_for()}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == REALM


def test_two_authorization_headers_are_a_400(tenant: LoopbackJwksServer) -> None:
    # API Gateway delivers repeated headers in multiValueHeaders; the test client cannot.
    token = token_for()
    event = api_gateway_event("/private", {"Authorization": [f"Bearer {token}", f"Bearer {token}"]})
    answer = chalice_app(event, None)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"] == "invalid_request"


def test_a_single_multi_value_authorization_header_is_accepted(
    tenant: LoopbackJwksServer,
) -> None:
    event = api_gateway_event("/private", {"Authorization": [f"Bearer {token_for()}"]})
    assert chalice_app(event, None)["statusCode"] == 200


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "expired": lambda: token_for(exp=1, iat=0),
    "wrong-audience": lambda: token_for(aud="https://other.example/api"),
    "wrong-issuer": lambda: token_for(iss="https://evil.auth0.com/"),
    "forged-signature": lambda: sign(rsa_key("attacker"), claims(), kid="k1"),
    "unknown-kid": lambda: sign(rsa_key("attacker"), claims()),
    "alg-rs384": lambda: sign(rsa_key("k1"), claims(), algorithm="RS384"),
    "typ-not-allowed": lambda: sign(rsa_key("k1"), claims(), headers={"typ": "JWS"}),
    "jku-header": lambda: sign(rsa_key("k1"), claims(), headers={"jku": "https://evil/jwks"}),
    "garbage": lambda: "not-a-jwt",
    "padding": lambda: token_for() + "==",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_any_bad_token_is_a_401_invalid_token_that_echoes_nothing(
    client: Client, tenant: LoopbackJwksServer, kind: str
) -> None:
    token = BAD_TOKENS[kind]()
    response = client.http.get("/courses", headers=bearer(token))
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(REALM + ', error="invalid_token", error_description="')
    body = body_of(response)
    assert set(body) == {"error", "error_description"}
    assert body["error"] == "invalid_token"
    assert_challenge_matches_body(response)
    for text in (challenge, body["error_description"]):
        assert "http" not in text
        assert "Traceback" not in text
        for segment in token.split("."):
            assert len(segment) < 6 or segment not in text


# --- GET /courses and /courses/{slug} ---------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"permissions": ["read:course:pencil-icons"], "scope": "openid"}, [PENCIL]),
        ({"permissions": [], "scope": "openid read:course:pro-membership"}, []),
        (
            {"permissions": ["read:course:pro-membership", "read:course:pencil-icons"]},
            [PENCIL, PRO],
        ),
        ({"permissions": [], "scope": "openid profile"}, []),
        ({"permissions": ["READ:course:pencil-icons"], "scope": None}, []),
    ],
    ids=[
        "permissions-array",
        "a-scope-entry-opens-no-course",
        "both-in-catalogue-order",
        "none",
        "case-differs",
    ],
)
def test_courses_lists_exactly_the_courses_the_token_grants(
    client: Client,
    tenant: LoopbackJwksServer,
    overrides: dict[str, Any],
    expected: list[dict[str, str]],
) -> None:
    response = client.http.get("/courses", headers=bearer(token_for(**overrides)))
    assert response.status_code == 200
    assert body_of(response) == {"courses": expected}


def test_a_granted_course_is_a_200_with_its_permission(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.get("/courses/pencil-icons", headers=bearer(token_for()))
    assert response.status_code == 200
    # A course without lessons lists none (and reads no content settings: none are set here).
    assert body_of(response) == {**PENCIL, "permission": "read:course:pencil-icons", "lessons": []}


def test_a_course_the_token_does_not_grant_is_a_403_insufficient_scope(
    client: Client, tenant: LoopbackJwksServer
) -> None:
    response = client.http.get("/courses/pro-membership", headers=bearer(token_for()))
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(REALM + ', error="insufficient_scope", error_description="')
    assert challenge.endswith(', scope="read:course:pro-membership"')
    assert body_of(response)["error"] == "insufficient_scope"
    assert_challenge_matches_body(response)


def test_a_course_named_only_in_the_scope_string_is_a_403(client: Client, tenant: LoopbackJwksServer) -> None:
    # With RBAC off on the API, any application could ask for this scope: it opens nothing.
    token = token_for(permissions=[], scope="openid read:course:pro-membership")

    response = client.http.get("/courses/pro-membership", headers=bearer(token))

    assert response.status_code == 403
    assert body_of(response)["error"] == "insufficient_scope"


def test_an_unknown_slug_is_a_404_after_authentication(client: Client, tenant: LoopbackJwksServer) -> None:
    assert client.http.get("/courses/no-such-course").status_code == 401
    response = client.http.get("/courses/no-such-course", headers=bearer(token_for()))
    assert response.status_code == 404
    assert body_of(response)["error"] == "not_found"


def test_an_unreadable_catalogue_is_a_503_not_a_500(
    client: Client, tenant: LoopbackJwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSES_FILE", "tests/fixtures/no-such-catalogue.json")
    wiring.clear_caches()
    response = client.http.get("/courses", headers=bearer(token_for()))
    assert response.status_code == 503


# --- POST /verify -----------------------------------------------------------------------------


def test_verify_answers_valid_for_a_valid_token(client: Client, tenant: LoopbackJwksServer) -> None:
    document = claims()
    response = post_json(client, {"token": sign(rsa_key("k1"), document)})
    assert response.status_code == 200
    assert body_of(response) == {
        "status": "valid",
        "sub": SUBJECT,
        "expires_at": document["exp"],
        "permissions": ["read:course:pencil-icons"],
    }


def test_verify_answers_the_tokens_permissions_not_its_scopes(client: Client, tenant: LoopbackJwksServer) -> None:
    # openid, profile and email are OAuth/OIDC scopes of the sign-in, not permissions of this API.
    token = token_for(scope="openid profile email offline_access read:course:pro-membership")

    response = post_json(client, {"token": token})

    assert response.status_code == 200
    assert body_of(response)["permissions"] == ["read:course:pencil-icons"]


def test_verify_answers_401_for_an_invalid_token(client: Client, tenant: LoopbackJwksServer) -> None:
    response = post_json(client, {"token": token_for(exp=1, iat=0)})
    assert response.status_code == 401
    assert body_of(response)["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "body",
    [b"[]", b"{}", b'{"token": 5}', b'{"token": ""}', b'{"token": "a", "extra": 1}', b"{", b""],
    ids=["array", "empty-object", "number", "empty-string", "extra-key", "broken-json", "no-body"],
)
def test_verify_answers_400_when_the_body_is_not_a_token_object(
    client: Client, tenant: LoopbackJwksServer, body: bytes
) -> None:
    response = client.http.post("/verify", headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 400
    assert body_of(response)["error"] == "invalid_request"
    assert_challenge_matches_body(response)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_verify_answers_415_for_a_body_that_is_not_json(client: Client, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = client.http.post("/verify", headers=headers, body=b'{"token": "x"}')
    assert response.status_code == 415
    assert set(body_of(response)) == {"error", "error_description"}


def test_verify_accepts_a_charset_parameter(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.post(
        "/verify",
        headers={"Content-Type": "application/json; charset=utf-8"},
        body=json.dumps({"token": token_for()}).encode(),
    )
    assert response.status_code == 200


def test_verify_refuses_a_token_in_the_url(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.post(
        "/verify?access_token=x",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"token": token_for()}).encode(),
    )
    assert response.status_code == 400


# --- configuration and outages ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/private", "/courses", "/courses/pencil-icons"])
def test_without_auth0_audience_private_routes_answer_503_and_the_log_says_why(
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    monkeypatch.delenv("AUTH0_AUDIENCE")
    with caplog.at_level("ERROR", logger="gumroad_auth0.access"):
        response = client.http.get(path, headers=bearer(token_for()))
    assert response.status_code == 503
    assert body_of(response)["error"] == "service_misconfigured"
    assert "AUTH0_AUDIENCE" not in response.body.decode()
    logged = [json.loads(record.getMessage()) for record in caplog.records]
    assert any(line["event"] == "access_misconfigured" and "AUTH0_AUDIENCE" in line["detail"] for line in logged)


def test_verify_also_answers_503_without_auth0_audience(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH0_AUDIENCE")
    assert post_json(client, {"token": token_for()}).status_code == 503


@pytest.mark.parametrize(
    "failure",
    [Answer(status=500), Answer(reset=True), Answer(body=b"<html>")],
    ids=["http-500", "connection-reset", "not-json"],
)
def test_jwks_down_at_cold_start_is_a_503_that_names_no_url(
    client: Client, failure: Answer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ScriptedServer(failure, failure) as server:
        monkeypatch.setenv("AUTH0_JWKS_URL", server.url())
        wiring.clear_caches()
        response = client.http.get("/courses", headers=bearer(token_for()))
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = body_of(response)
    assert body["error"] == "temporarily_unavailable"
    assert "http" not in body["error_description"]
    assert "WWW-Authenticate" not in response.headers


def test_while_warm_an_outage_and_an_unknown_kid_do_not_break_valid_tokens(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = json.dumps(jwks(rsa_key("k1"))).encode()
    with ScriptedServer(Answer(body=keys), Answer(status=503), Answer(status=503)) as server:
        monkeypatch.setenv("AUTH0_JWKS_URL", server.url())
        wiring.clear_caches()
        assert client.http.get("/courses", headers=bearer(token_for())).status_code == 200
        unknown = sign(rsa_key("k-new"), claims())
        assert client.http.get("/courses", headers=bearer(unknown)).status_code == 401
        fresh = token_for(jti="another-session")
        assert client.http.get("/courses", headers=bearer(fresh)).status_code == 200
    assert len(server.paths) == 1, "within the cooldown an unknown kid refetches nothing; known keys need no fetch"


def test_many_requests_with_several_tokens_fetch_the_jwks_once(client: Client, tenant: LoopbackJwksServer) -> None:
    tokens = [token_for(jti=str(index)) for index in range(3)]
    for index in range(30):
        path = ("/private", "/courses", "/courses/pencil-icons")[index % 3]
        assert client.http.get(path, headers=bearer(tokens[index % 3])).status_code == 200
    assert tenant.requests == 1


# --- CORS -------------------------------------------------------------------------------------

PRIVATE_PATHS = ["/private", "/verify", "/courses", "/courses/pencil-icons"]


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_preflight_allows_the_configured_origin(client: Client, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", SPA_ORIGIN)
    response = client.http.options(
        path,
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 204
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert set(headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert {h.lower() for h in headers["Access-Control-Allow-Headers"].split(", ")} == {
        "authorization",
        "content-type",
    }
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert headers["Vary"] == "Origin"


def test_preflight_from_another_origin_gets_no_allow_origin(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", SPA_ORIGIN)
    response = client.http.options("/courses", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"


def test_without_cors_allow_origin_no_cors_headers_are_sent(client: Client, tenant: LoopbackJwksServer) -> None:
    preflight = client.http.options("/courses", headers={"Origin": SPA_ORIGIN})
    answer = client.http.get("/courses", headers={"Origin": SPA_ORIGIN, **bearer(token_for())})
    for response in (preflight, answer):
        assert not [name for name in response.headers if name.lower().startswith("access-control")]
        assert "Vary" not in response.headers


@pytest.mark.parametrize("token", ["valid", "missing"])
def test_private_answers_carry_cors_headers_for_the_configured_origin(
    client: Client, tenant: LoopbackJwksServer, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", f"https://other.example, {SPA_ORIGIN}")
    headers = {"Origin": SPA_ORIGIN, **(bearer(token_for()) if token == "valid" else {})}
    response = client.http.get("/courses", headers=headers)
    assert response.status_code == (200 if token == "valid" else 401)
    assert response.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert response.headers["Vary"] == "Origin"
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]


def test_a_wildcard_origin_is_answered_with_a_wildcard(
    client: Client, tenant: LoopbackJwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "*")
    response = client.http.get("/private", headers={"Origin": SPA_ORIGIN, **bearer(token_for())})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_private_paths_are_those_app_py_declares_and_each_has_a_preflight() -> None:
    import app

    assert app.private_routes.paths == {
        "/private",
        "/verify",
        "/courses",
        "/courses/{slug}",
        "/courses/{slug}/lessons/{lesson_id}",
    }
    for path in app.private_routes.paths:
        assert chalice_app.routes[path]["OPTIONS"].view_function is preflight_answer
    # The ping route's OPTIONS is the service's 405, not a preflight.
    assert chalice_app.routes["/gumroad/ping"]["OPTIONS"].view_function is not preflight_answer


def test_a_route_that_is_not_private_gets_no_cors_headers(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", SPA_ORIGIN)
    response = client.http.post("/gumroad/ping", headers={"Origin": SPA_ORIGIN}, body=b"")

    assert body_of(response)["error"]
    assert not [name for name in response.headers if name.lower().startswith("access-control")]
    assert "Vary" not in response.headers


def test_an_invalid_cors_setting_is_a_503(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.com/path")
    assert client.http.get("/courses", headers=bearer(token_for())).status_code == 503


# --- logs -------------------------------------------------------------------------------------


def test_log_lines_are_json_and_never_contain_a_token(
    client: Client, tenant: LoopbackJwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    bad = [token_for(exp=1, iat=0), sign(rsa_key("attacker"), claims(), kid="k1"), "x.y.z"]
    with caplog.at_level("DEBUG", logger="gumroad_auth0.access"):
        for token in [*bad, token_for()]:
            client.http.get("/courses", headers=bearer(token))
        client.http.get("/courses", headers={"Authorization": "Bearer a b"})
    assert caplog.records
    for record in caplog.records:
        line = json.loads(record.getMessage())
        assert isinstance(line["event"], str)
        assert "\n" not in record.getMessage()
    for token in bad:
        for segment in token.split("."):
            assert len(segment) < 6 or segment not in caplog.text


# --- fuzzing through the routes: never a 2xx, never a 5xx -------------------------------------


def test_fuzz_no_mutated_token_ever_gets_a_2xx_or_a_5xx(client: Client, tenant: LoopbackJwksServer) -> None:
    rng = random.Random(1337)
    valid = token_for()
    alphabet = string.ascii_letters + string.digits + "-_.=+/~"
    assert client.http.get("/courses", headers=bearer(valid)).status_code == 200
    for _ in range(400):
        position = rng.randrange(len(valid))
        mutated = valid[:position] + rng.choice(alphabet) + valid[position + 1 :]
        if rng.random() < 0.3:
            mutated = mutated[: rng.randrange(1, len(mutated))]
        if mutated == valid:
            continue
        path = rng.choice(["/private", "/courses", "/courses/pencil-icons"])
        status = client.http.get(path, headers=bearer(mutated)).status_code
        assert status in (400, 401), (path, status)
        assert post_json(client, {"token": mutated}).status_code in (400, 401)


def test_fuzz_random_authorization_headers_never_get_a_2xx_or_a_5xx(client: Client, tenant: LoopbackJwksServer) -> None:
    rng = random.Random(4242)
    for _ in range(400):
        length = rng.randrange(0, 120)
        value = "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(128, 600)])) for _ in range(length))
        if rng.random() < 0.5:
            value = rng.choice(["Bearer ", "bearer  ", "Basic ", "Bearer\t"]) + value
        status = client.http.get("/courses", headers={"Authorization": value}).status_code
        assert status in (400, 401), (value, status)


# --- the private path's imports ---------------------------------------------------------------

COLD_START_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from tests.tokens import AUDIENCE, ISSUER, claims, loopback_jwks, rsa_key, sign

    key = rsa_key("k1")
    with loopback_jwks(key) as server:
        os.environ.update(
            AUTH0_AUDIENCE=AUDIENCE,
            AUTH0_ISSUER=ISSUER,
            AUTH0_JWKS_URL=server.url,
            COURSES_FILE="tests/fixtures/courses.test.json",
        )
        import app
        from chalice.test import Client

        token = sign(key, claims())
        with Client(app.app, project_dir=sys.argv[1]) as client:
            auth = {"Authorization": "Bearer " + token}
            statuses = [
                client.http.get(path, headers=auth).status_code
                for path in ("/courses", "/courses/pencil-icons", "/private")
            ]
            statuses.append(
                client.http.post(
                    "/verify",
                    headers={"Content-Type": "application/json"},
                    body=json.dumps({"token": token}).encode(),
                ).status_code
            )
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("auth0", "boto3"))
    print(json.dumps({"statuses": statuses, "heavy": heavy, "jwks_requests": server.requests}))
    """
)


def test_the_private_path_never_imports_auth0_or_boto3(tmp_path: Path) -> None:
    environment = {
        name: value for name, value in os.environ.items() if name not in ACCESS_VARIABLES and name != "COURSES_FILE"
    }
    environment["PYTHONPATH"] = str(APP_DIR)
    completed = subprocess.run(
        [sys.executable, "-c", COLD_START_SCRIPT, str(tmp_path)],
        cwd=APP_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["statuses"] == [200, 200, 200, 200]
    assert report["jwks_requests"] == 1  # the cold fetch over real loopback HTTP, then none
    assert report["heavy"] == []


# --- helpers ----------------------------------------------------------------------------------


def api_gateway_event(path: str, multi_value_headers: dict[str, list[str]]) -> dict[str, Any]:
    """A REST API proxy event the way API Gateway sends it, repeated headers included."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {name: values[-1] for name, values in multi_value_headers.items()},
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"httpMethod": "GET", "resourcePath": path, "path": path},
        "body": None,
        "isBase64Encoded": False,
    }


# --- hardening: every answer in the service's shape ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/courses", "GET, OPTIONS"),
        ("DELETE", "/courses/pencil-icons", "GET, OPTIONS"),
        ("PUT", "/private", "GET, OPTIONS"),
        ("GET", "/verify", "OPTIONS, POST"),
    ],
)
def test_another_method_on_a_known_path_is_405_in_the_service_shape(
    client: Client, method: str, path: str, allow: str
) -> None:
    response = client.http.request(method, path, headers=bearer(token_for()), body=b"")

    assert response.status_code == 405
    assert body_of(response) == {
        "error": "method_not_allowed",
        "error_description": "this path does not accept this method",
    }
    assert response.headers["Allow"] == allow


def test_a_get_with_any_content_type_is_served(client: Client, tenant: LoopbackJwksServer) -> None:
    response = client.http.get("/courses", headers={**bearer(token_for()), "Content-Type": "text/plain"})

    assert response.status_code == 200


def test_a_bug_in_a_private_route_is_a_503_in_the_service_shape_not_a_500(
    client: Client, tenant: LoopbackJwksServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise KeyError("boom")

    monkeypatch.setattr(wiring, "get_catalogue", broken)
    token = token_for()
    with caplog.at_level(logging.ERROR, logger="gumroad_auth0"):
        response = client.http.get("/courses", headers=bearer(token))

    assert response.status_code == 503
    assert body_of(response)["error"] == "internal_error"
    assert '"event":"access_failed"' in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"permissions": "read:course:pencil-icons", "scope": None},
        {"permissions": None, "scope": ["read:course:pencil-icons"]},
        {"jti": 123},
    ],
    ids=["permissions-wrong-type", "scope-wrong-type", "jti-number"],
)
def test_a_token_whose_claims_have_the_wrong_json_type_is_401(
    client: Client, tenant: LoopbackJwksServer, overrides: dict[str, Any]
) -> None:
    response = client.http.get("/courses", headers=bearer(token_for(**overrides)))

    assert response.status_code == 401
    assert body_of(response)["error"] == "invalid_token"
