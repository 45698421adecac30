"""``POST /auth0/post-login``: the post-login Action asks what a sign-in means; one answer and one log line, always.

The Action gives the service 5 s and lets the login go on without it after that; the service works within
``SIGNIN_DEADLINE_SECONDS`` (4 s). Any failure is an answer the Action treats as "unavailable": the student
signs in, without the change, and is told so.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from chalice.app import Response

from chalicelib.deadlines import Deadline, upstream_scope
from chalicelib.errors import InternalError, InvalidSignInRequest, ServiceError, UnsupportedMediaType
from chalicelib.logs import describe_failure, log_event
from chalicelib.media_types import media_type
from chalicelib.purchases.action_auth import authenticate_action, user_id_of
from chalicelib.purchases.sign_in import SignInAnswer
from chalicelib.strict_json import parse_json
from chalicelib.web.answers import json_answer, sign_in_error_answer

log = logging.getLogger("gumroad_auth0.sign_in")
MAX_BODY_BYTES = 4096


class SignInServices(Protocol):
    """What the route needs, built lazily by ``wiring`` (a request without the secret builds no Auth0 client)."""

    def post_login_secret(self) -> str:
        """The Action's shared secret; ConfigurationError when none is set."""

    def deadline_seconds(self) -> float: ...

    def sign_in(self, user_id: str) -> SignInAnswer: ...


def answer_post_login(
    *, services: SignInServices, authorization: str | None, content_type: str | None, body: bytes
) -> Response:
    started = time.monotonic()
    fields: dict[str, object] = {}
    response = sign_in_error_answer(InternalError())
    try:
        # The secret first: a request without it learns nothing and costs nothing.
        authenticate_action(authorization, services.post_login_secret())
        user_id = _parse(content_type, body)
        fields["provider"] = user_id.split("|", 1)[0]
        with upstream_scope(Deadline.after(services.deadline_seconds())) as stats:
            try:
                answer = services.sign_in(user_id)
            finally:
                fields.update(auth0_calls=stats.total, auth0_throttled=stats.throttled)
        fields.update(result=answer.result, reason=answer.reason, changes=list(answer.changes) or None)
        response = json_answer(200, answer.to_json())
    except ServiceError as error:
        fields.update(error=error.code, detail=error.message)
        response = sign_in_error_answer(error)
    except Exception as unexpected:
        fields.update(error=InternalError.code, detail=describe_failure(unexpected))
    finally:
        level = logging.INFO if response.status_code < 500 else logging.ERROR
        log_event(
            log,
            level,
            "sign_in_answered",
            status=response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **fields,
        )
    return response


def _parse(content_type: str | None, body: bytes) -> str:
    if media_type(content_type) != "application/json":
        raise UnsupportedMediaType("send a JSON body")
    if len(body) > MAX_BODY_BYTES:
        raise InvalidSignInRequest("the body is too large")
    try:
        document = parse_json(body)
    except ValueError:
        raise InvalidSignInRequest("the body is not valid JSON") from None
    return user_id_of(document)
