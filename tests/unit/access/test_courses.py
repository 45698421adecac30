"""What a verified token opens: the granted courses, one course by slug and its permission, a lesson, the greeting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.access.courses import authorise, course_by_slug, display_name, granted_courses, lesson_by_id
from chalicelib.access.verifier import AccessTokenVerifier
from chalicelib.catalogue import CourseCatalogue, load_catalogue
from chalicelib.errors import InsufficientScope, UnknownCourse, UnknownLesson
from tests.tokens import SUBJECT, claims, rsa_key, sign

CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "courses.test.json"


@pytest.fixture
def catalogue() -> CourseCatalogue:
    return load_catalogue(CATALOGUE)


def token(**overrides: Any) -> str:
    return sign(rsa_key("k1"), claims(**overrides))


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


def test_a_lesson_is_found_by_its_exact_id_and_any_other_is_unknown() -> None:
    handbook = course_by_slug(load_catalogue(CATALOGUE.parent / "courses.lessons.json"), "serverless-handbook")

    assert lesson_by_id(handbook, "cold-starts").key == "serverless-handbook/03-cold-starts.webm"
    for unknown in ("Cold-Starts", "cold-starts/", "", "03-cold-starts.webm"):
        with pytest.raises(UnknownLesson):
            lesson_by_id(handbook, unknown)
