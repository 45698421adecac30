"""The private routes' guard: a request's credentials become a verified principal; a course needs its permission.

It takes plain values (the Authorization header's values, the query's parameter names, a body), so it
knows nothing of Chalice; ``chalicelib.web.private_routes`` reads them out of the request. PyJWT is loaded only
with the verifier, when a token arrives.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from chalicelib.access.bearer import QUERY_PARAMETER, extract_bearer_token
from chalicelib.catalogue import Course, CourseCatalogue
from chalicelib.errors import InsufficientScope, InvalidRequest, UnknownCourse

if TYPE_CHECKING:
    from chalicelib.access.verifier import AccessTokenVerifier, VerifiedToken

MAX_VERIFY_BODY_BYTES = 16_384
MAX_GREETING_NAME = 200
# No double quotes: the text also goes into the WWW-Authenticate quoted-string.
_BODY_SHAPE = "the body must be a JSON object whose only member, token, is a non-empty string"


def authenticate(
    authorization: Sequence[str], query_names: Collection[str], *, verifier: AccessTokenVerifier
) -> VerifiedToken:
    """The principal of a request carrying ``Authorization: Bearer <token>`` (RFC 6750 section 2.1 only)."""
    return verifier.verify(extract_bearer_token(authorization, query_parameters=query_names))


def token_to_verify(body: bytes, query_names: Collection[str]) -> str:
    """The token of ``POST /verify``'s ``{"token": "..."}``; never one from the URL."""
    if QUERY_PARAMETER in query_names:
        raise InvalidRequest("send the token in the JSON body, not in the URL")
    if len(body) > MAX_VERIFY_BODY_BYTES:
        raise InvalidRequest("the body is too large")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidRequest(_BODY_SHAPE) from None
    if not isinstance(document, dict) or set(document) != {"token"}:
        raise InvalidRequest(_BODY_SHAPE)
    token = document["token"]
    if not isinstance(token, str) or not token:
        raise InvalidRequest(_BODY_SHAPE)
    return token


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
