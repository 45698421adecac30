"""Requests and responses as plain values, and the body parsing both Auth0 APIs share."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from sandbox.errors import ManagementError, OAuthError, SandboxError, payload_error

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    client_ip: str
    params: Mapping[str, str] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()  # a Management API request's: its bearer token's scopes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json_value(self) -> Any:
        """The body as JSON (an array for some Management endpoints), or the Management API's ``invalid_body`` 400."""
        try:
            return _loads(self.body)
        except ValueError:
            raise ManagementError(400, "Invalid request payload JSON format", "invalid_body") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or the Management API's ``invalid_body`` 400."""
        value = self.json_value()
        if not isinstance(value, dict):
            raise payload_error(f"'Expected type object but found type {json_type(value)}'.")
        return value

    def form_or_json(self) -> dict[str, Any]:
        """An Authentication API body: form-encoded or JSON, as Auth0 accepts both (and nothing else)."""
        media = media_type(self.header("content-type"))
        if media == "application/x-www-form-urlencoded":
            try:
                text = self.body.decode("utf-8")
            except UnicodeDecodeError:
                raise OAuthError(400, "invalid_request", "The body is not UTF-8") from None
            return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}
        if media != "application/json":
            # A text/plain body is what a web page can send without a preflight: never read it as JSON.
            raise OAuthError(400, "invalid_request", "The body must be application/json or form-encoded")
        try:
            value = _loads(self.body)
        except ValueError:
            raise OAuthError(400, "invalid_request", "The body must be JSON or form-encoded") from None
        if not isinstance(value, dict):
            raise OAuthError(400, "invalid_request", "The body must be a JSON object")
        return value

    def bearer_token(self) -> str | None:
        authorization = self.header("authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status=status, body=body, headers=dict(headers or {}))


def text_response(status: int, text: str) -> Response:
    return Response(status=status, body=text.encode("utf-8"), content_type="text/plain; charset=utf-8")


def empty_response(status: int = 204) -> Response:
    return Response(status=status, content_type=None)


def error_response(error: SandboxError) -> Response:
    return json_response(error.status, error.body, error.headers)


def text_parameter(body: Mapping[str, Any], name: str) -> str | None:
    """An Authentication API string parameter; absent, null and "" are all None. Any other type is a 400."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise OAuthError(400, "invalid_request", f"Parameter {name} must be a string")
    return value


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``; absent -> ``""``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _loads(body: bytes) -> Any:
    if not body.strip():
        raise ValueError("empty body")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
