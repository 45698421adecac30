"""What a verified token opens: the catalogue's courses its permissions grant, a course and a lesson by their ids,
whom to greet.

Plain values in and out, so it knows nothing of Chalice (``chalicelib.web.private_routes`` calls it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.catalogue import Course, CourseCatalogue, Lesson
from chalicelib.errors import InsufficientScope, UnknownCourse, UnknownLesson

if TYPE_CHECKING:
    from chalicelib.access.verifier import VerifiedToken

MAX_GREETING_NAME = 200


def granted_courses(token: VerifiedToken, catalogue: CourseCatalogue) -> list[Course]:
    """The catalogue's courses the token's permissions open, in catalogue order."""
    return [course for course in catalogue if token.grants(course.permission)]


def course_by_slug(catalogue: CourseCatalogue, slug: str) -> Course:
    course = catalogue.by_slug(slug)
    if course is None:
        raise UnknownCourse()
    return course


def lesson_by_id(course: Course, lesson_id: str) -> Lesson:
    """The lesson of ``course`` with this id; UnknownLesson (404) when it has none."""
    lesson = next((lesson for lesson in course.lessons if lesson.id == lesson_id), None)
    if lesson is None:
        raise UnknownLesson()
    return lesson


def authorise(token: VerifiedToken, course: Course) -> None:
    """Raise InsufficientScope (403) unless the token carries the course's permission."""
    if not token.grants(course.permission):
        raise InsufficientScope(course.permission)


def display_name(token: VerifiedToken, name_claim: str | None) -> str:
    """Whom ``/private`` greets: the configured name claim when it is a non-empty string, else ``sub``."""
    if name_claim is not None:
        value = token.claims.get(name_claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_GREETING_NAME]
    return token.subject
