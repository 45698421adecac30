"""The body of ``POST /login``, validated before anything talks to Auth0."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.errors import LoginRejected

MAX_FIELD_LENGTH = 512


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=<redacted>)"


def parse_login_body(raw: bytes, content_type: str | None) -> Credentials:
    """``{"username": ..., "password": ...}`` (``email`` is accepted for ``username``)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise LoginRejected(415, "unsupported_media_type", "send a JSON body")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise LoginRejected(400, "invalid_request", "the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise LoginRejected(400, "invalid_request", 'the body must be {"username": ..., "password": ...}')
    username = _field(document.get("username", document.get("email")), "username")
    password = _field(document.get("password"), "password")
    return Credentials(username=username.strip(), password=password)


def _field(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LoginRejected(400, "invalid_request", f"{name} is missing")
    if len(value) > MAX_FIELD_LENGTH:
        raise LoginRejected(400, "invalid_request", f"{name} is too long")
    return value
