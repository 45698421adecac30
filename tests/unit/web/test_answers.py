"""web/answers.py: every error type -> status, headers and the stable ``{"error", "error_description"}`` body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.app import Response

from chalicelib.errors import (
    BuyerBusy,
    ConfigurationError,
    InlineBusy,
    InsufficientScope,
    InternalError,
    InvalidLoginRequest,
    InvalidRequest,
    InvalidSignature,
    KeysUnavailable,
    LoginDisabled,
    LoginRefused,
    LoginThrottled,
    MalformedMessage,
    MalformedPing,
    MalformedToken,
    NoCredentials,
    PingForbidden,
    PingUnauthorized,
    PurchaseNotYetKnown,
    ServiceError,
    TokenExpired,
    UnknownCourse,
    UnsupportedMediaType,
    UpstreamRejected,
    UpstreamUnavailable,
)
from chalicelib.web.answers import (
    JSON_HEADERS,
    KEYS_RETRY_AFTER_SECONDS,
    RETRY_AFTER_SECONDS,
    bearer_error_answer,
    json_answer,
    login_error_answer,
    ok,
    ping_error_answer,
)

REALM = "courses"
SECRET_DETAIL = "AUTH0_CLIENT_SECRET=m2m-client-secret-for-tests-Zr81 is not valid"


def body(response: Response) -> Any:
    assert isinstance(response.body, str)
    return json.loads(response.body)


def assert_service_shape(response: Response, code: str) -> None:
    assert body(response) == {"error": code, "error_description": body(response)["error_description"]}
    assert isinstance(body(response)["error_description"], str)
    assert body(response)["error_description"]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"


# --- pings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PingUnauthorized("the ping secret is missing or wrong"), 401),
        (PingForbidden("this ping is for another seller"), 403),
        (MalformedPing("the ping has no email"), 400),
        (UnsupportedMediaType("pings are form-encoded"), 415),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, ServiceError) else str(value),
)
def test_a_ping_the_caller_got_wrong_is_a_final_4xx_without_retry_after(error: ServiceError, status: int) -> None:
    answer = ping_error_answer(error)

    assert answer.status_code == status
    assert_service_shape(answer, error.code)
    assert body(answer)["error_description"] == error.message
    assert "Retry-After" not in answer.headers


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable("Auth0 answered 500 to 'assign role' 4 times; retry later"),
        UpstreamRejected("role rol_x does not exist in Auth0 (check the catalogue)"),
        PurchaseNotYetKnown("this purchase is not known yet; retry later"),
        BuyerBusy("another event for this buyer is being applied; retry later"),
        InlineBusy("too many pings at once; retry later"),
        MalformedMessage("not a queued event"),
        InternalError(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_other_ping_failure_is_a_503_gumroad_retries_with_retry_after(error: ServiceError) -> None:
    answer = ping_error_answer(error)

    assert answer.status_code == 503, "503 is a status Gumroad redelivers: the purchase is never lost"
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert_service_shape(answer, error.code)


def test_a_configuration_problem_is_a_503_that_keeps_its_details_for_the_log() -> None:
    answer = ping_error_answer(ConfigurationError(SECRET_DETAIL))

    assert answer.status_code == 503
    assert_service_shape(answer, "service_misconfigured")
    assert "Zr81" not in str(answer.body)
    assert "AUTH0_CLIENT_SECRET" not in str(answer.body)


# --- POST /login ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidLoginRequest("username and password are required"), 400),
        (LoginRefused("invalid_grant", "wrong email or password"), 401),
        (LoginDisabled("login is not enabled"), 404),
        (UnsupportedMediaType("login takes JSON"), 415),
    ],
    ids=["400", "401", "404", "415"],
)
def test_a_login_the_caller_got_wrong_is_its_4xx(error: ServiceError, status: int) -> None:
    answer = login_error_answer(error)

    assert answer.status_code == status
    assert_service_shape(answer, error.code)
    assert "Retry-After" not in answer.headers


def test_a_refused_login_answers_with_auth0s_own_error_code() -> None:
    assert (
        body(login_error_answer(LoginRefused("invalid_grant", "wrong email or password")))["error"] == "invalid_grant"
    )


@pytest.mark.parametrize(("retry_after", "header"), [(30, "30"), (None, None)])
def test_auth0_throttling_a_login_is_a_429_passing_on_its_retry_after(
    retry_after: int | None, header: str | None
) -> None:
    answer = login_error_answer(LoginThrottled("too many attempts", retry_after))

    assert answer.status_code == 429
    assert_service_shape(answer, "too_many_attempts")
    assert answer.headers.get("Retry-After") == header


@pytest.mark.parametrize(
    "error",
    [UpstreamUnavailable("Auth0 is unreachable"), ConfigurationError(SECRET_DETAIL), InternalError()],
    ids=lambda error: type(error).__name__,
)
def test_the_services_own_trouble_during_a_login_is_a_503_with_a_short_retry_after(error: ServiceError) -> None:
    answer = login_error_answer(error)

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert_service_shape(answer, error.code)
    assert "Zr81" not in str(answer.body)


# --- private routes: RFC 6750 ---------------------------------------------------------------------


def test_no_credentials_is_a_401_with_a_bare_bearer_challenge() -> None:
    answer = bearer_error_answer(NoCredentials(), REALM)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="courses"'
    assert_service_shape(answer, "unauthorized")


def test_a_malformed_request_is_a_400_invalid_request_challenge() -> None:
    answer = bearer_error_answer(InvalidRequest("send one Bearer token"), REALM)

    assert answer.status_code == 400
    assert answer.headers["WWW-Authenticate"] == (
        'Bearer realm="courses", error="invalid_request", error_description="send one Bearer token"'
    )
    assert_service_shape(answer, "invalid_request")


@pytest.mark.parametrize(
    "error", [MalformedToken(), InvalidSignature(), TokenExpired()], ids=lambda e: type(e).__name__
)
def test_a_bad_token_is_a_401_invalid_token_challenge_with_its_fixed_text(error: ServiceError) -> None:
    answer = bearer_error_answer(error, REALM)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer realm="courses", error="invalid_token", error_description="{error.message}"'
    )
    assert_service_shape(answer, "invalid_token")


def test_a_missing_permission_is_a_403_naming_the_scope() -> None:
    answer = bearer_error_answer(InsufficientScope("read:course:serverless-handbook"), REALM)

    assert answer.status_code == 403
    assert answer.headers["WWW-Authenticate"] == (
        'Bearer realm="courses", error="insufficient_scope", '
        'error_description="the access token does not grant this course", scope="read:course:serverless-handbook"'
    )
    assert_service_shape(answer, "insufficient_scope")


def test_a_quote_or_a_control_character_never_breaks_the_challenge_header() -> None:
    answer = bearer_error_answer(InvalidRequest('bad "value"\\ \r\n here'), 'co"ur\\ses')

    assert answer.headers["WWW-Authenticate"] == (
        'Bearer realm="courses", error="invalid_request", error_description="bad value  here"'
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [(UnknownCourse(), 404), (UnsupportedMediaType("send JSON"), 415)],
    ids=["unknown-course", "unsupported-media-type"],
)
def test_a_client_error_after_the_token_checks_out_has_no_challenge(error: ServiceError, status: int) -> None:
    answer = bearer_error_answer(error, REALM)

    assert answer.status_code == status
    assert "WWW-Authenticate" not in answer.headers
    assert_service_shape(answer, error.code)


@pytest.mark.parametrize(
    "error", [KeysUnavailable(), ConfigurationError(SECRET_DETAIL), InternalError()], ids=lambda e: type(e).__name__
)
def test_no_keys_no_configuration_or_a_bug_is_a_503_with_retry_after_and_no_details(error: ServiceError) -> None:
    answer = bearer_error_answer(error, REALM)

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(KEYS_RETRY_AFTER_SECONDS)
    assert "WWW-Authenticate" not in answer.headers
    assert_service_shape(answer, error.code)
    assert "Zr81" not in str(answer.body)


def test_extra_headers_such_as_cors_are_kept_on_every_bearer_answer() -> None:
    cors = {"Access-Control-Allow-Origin": "https://courses.example.com", "Vary": "Origin"}

    for error in (NoCredentials(), InsufficientScope("read:course:x"), KeysUnavailable(), UnknownCourse()):
        answer = bearer_error_answer(error, REALM, dict(cors))
        assert {name: answer.headers[name] for name in cors} == cors


# --- the building blocks --------------------------------------------------------------------------


def test_json_answer_merges_extra_headers_such_as_allow_over_the_json_headers() -> None:
    answer = json_answer(405, {"error": "method_not_allowed", "error_description": "no"}, {"Allow": "GET, POST"})

    assert answer.status_code == 405
    assert answer.headers == {**JSON_HEADERS, "Allow": "GET, POST"}


def test_ok_is_a_compact_200_json_answer() -> None:
    answer = ok({"status": "processed", "event": "sale"})

    assert answer.status_code == 200
    assert answer.body == '{"status":"processed","event":"sale"}'
    assert answer.headers == JSON_HEADERS
