"""``POST /login`` up to Auth0: the route is enabled, the body is valid, every failure has its answer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalice.app import Response

from chalicelib.access.password_grant import PasswordCredentials, PasswordGrant
from chalicelib.errors import (
    ConfigurationError,
    InternalError,
    InvalidLoginRequest,
    ServiceError,
    UnsupportedMediaType,
)
from chalicelib.logs import describe_failure, log_event
from chalicelib.media_types import media_type
from chalicelib.strict_json import parse_json
from chalicelib.web.answers import json_answer, login_error_answer

log = logging.getLogger("gumroad_auth0.login")

MAX_FIELD_LENGTH = 512


def answer_login(
    get_login: Callable[[], PasswordGrant], *, body: bytes, content_type: str | None, client_ip: str | None
) -> Response:
    """Sign in with a password. The route's own configuration is checked before the body is even read."""
    try:
        service = get_login()  # 404 when login is off, 503 when it is half-configured
        credentials = parse_login_body(body, content_type)
        return json_answer(200, service.login(credentials, client_ip=client_ip))
    except ConfigurationError as error:
        log_event(log, logging.ERROR, "login_misconfigured", detail=error.message)
        return login_error_answer(error)
    except ServiceError as error:
        return login_error_answer(error)
    except Exception as unexpected:
        log_event(log, logging.ERROR, "login_failed", error=InternalError.code, detail=describe_failure(unexpected))
        return login_error_answer(InternalError())


def parse_login_body(raw: bytes, content_type: str | None) -> PasswordCredentials:
    """``{"username": ..., "password": ...}`` (``email`` is accepted for ``username``)."""
    if media_type(content_type) != "application/json":
        raise UnsupportedMediaType("send a JSON body")
    try:
        document = parse_json(raw)
    except ValueError:
        raise InvalidLoginRequest("the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidLoginRequest('the body must be {"username": ..., "password": ...}')
    username = _field(document.get("username", document.get("email")), "username")
    password = _field(document.get("password"), "password")
    return PasswordCredentials(username=username.strip(), password=password)


def _field(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidLoginRequest(f"{name} is missing")
    if len(value) > MAX_FIELD_LENGTH:
        raise InvalidLoginRequest(f"{name} is too long")
    return value
