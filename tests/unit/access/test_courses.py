"""The private routes' guard on its own: credentials -> principal, /verify's body, courses and permissions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.access.courses import (
    MAX_VERIFY_BODY_BYTES,
    authenticate,
    authorise,
    course_by_slug,
    display_name,
    granted_courses,
    token_to_verify,
)
from chalicelib.access.jwks import JwksCache
from chalicelib.access.verifier import AccessTokenVerifier
from chalicelib.catalogue import CourseCatalogue, load_catalogue
from chalicelib.errors import InsufficientScope, InvalidRequest, InvalidToken, NoCredentials, UnknownCourse
from tests.tokens import AUDIENCE, ISSUER, SUBJECT, FakeJwksEndpoint, claims, rsa_key, sign

CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "courses.test.json"


@pytest.fixture
def verifier() -> AccessTokenVerifier:
    endpoint = FakeJwksEndpoint()
    endpoint.publish(rsa_key("k1"))
    keys = JwksCache("https://tenant.example.auth0.com/.well-known/jwks.json", algorithms=["RS256"], fetcher=endpoint)
    return AccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE, keys=keys)


@pytest.fixture
def catalogue() -> CourseCatalogue:
    return load_catalogue(CATALOGUE)


def token(**overrides: Any) -> str:
    return sign(rsa_key("k1"), claims(**overrides))


def test_a_bearer_token_becomes_its_principal(verifier: AccessTokenVerifier) -> None:
    principal = authenticate([f"Bearer {token()}"], set(), verifier=verifier)

    assert principal.subject == SUBJECT


@pytest.mark.parametrize(
    ("authorization", "query", "refusal"),
    [
        ([], set(), NoCredentials),
        (["Basic abc"], set(), NoCredentials),
        (["Bearer a", "Bearer b"], set(), InvalidRequest),
        (["Bearer abc.def.ghi"], {"access_token"}, InvalidRequest),
        (["Bearer abc.def.ghi"], set(), InvalidToken),
    ],
    ids=["none", "other-scheme", "two-headers", "header-and-query", "not-a-token"],
)
def test_what_is_not_one_good_bearer_token_is_refused_with_its_reason(
    verifier: AccessTokenVerifier, authorization: list[str], query: set[str], refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        authenticate(authorization, query, verifier=verifier)


def test_verify_reads_the_token_from_a_json_body_only() -> None:
    assert token_to_verify(json.dumps({"token": "abc"}).encode(), set()) == "abc"
    with pytest.raises(InvalidRequest, match="not in the URL"):
        token_to_verify(json.dumps({"token": "abc"}).encode(), {"access_token"})


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"token": ""}',
        b'{"token": 5}',
        b'{"token": "a", "other": 1}',
        b"{",
        b" " * (MAX_VERIFY_BODY_BYTES + 1),
    ],
)
def test_a_verify_body_of_another_shape_is_an_invalid_request(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        token_to_verify(body, set())


def test_the_granted_courses_are_those_whose_permission_the_token_carries(
    verifier: AccessTokenVerifier, catalogue: CourseCatalogue
) -> None:
    principal = verifier.verify(token(permissions=["read:course:pro-membership"], scope="openid"))

    assert [course.slug for course in granted_courses(principal, catalogue)] == ["pro-membership"]


def test_a_course_needs_its_permission(verifier: AccessTokenVerifier, catalogue: CourseCatalogue) -> None:
    principal = verifier.verify(token(permissions=["read:course:pro-membership"], scope="openid"))
    granted, other = course_by_slug(catalogue, "pro-membership"), course_by_slug(catalogue, "pencil-icons")

    authorise(principal, granted)
    with pytest.raises(InsufficientScope) as refused:
        authorise(principal, other)
    assert refused.value.scope == other.permission


def test_an_unknown_slug_is_an_unknown_course(catalogue: CourseCatalogue) -> None:
    with pytest.raises(UnknownCourse):
        course_by_slug(catalogue, "no-such-course")


@pytest.mark.parametrize(
    ("claim_value", "shown"),
    [("  Ada Lovelace ", "Ada Lovelace"), ("", SUBJECT), (42, SUBJECT), ("x" * 300, "x" * 200)],
)
def test_private_greets_by_the_name_claim_when_it_is_a_non_empty_string(
    verifier: AccessTokenVerifier, claim_value: object, shown: str
) -> None:
    principal = verifier.verify(token(**{"https://courses.example.com/name": claim_value}))

    assert display_name(principal, "https://courses.example.com/name") == shown
    assert display_name(principal, None) == SUBJECT
