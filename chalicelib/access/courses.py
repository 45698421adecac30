"""What a verified token opens: the catalogue's courses its permissions grant, a course by slug, whom to greet.

Plain values in and out, so it knows nothing of Chalice (``chalicelib.web.private_routes`` calls it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.catalogue import Course, CourseCatalogue
from chalicelib.errors import InsufficientScope, UnknownCourse

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
