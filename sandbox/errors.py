"""Auth0-shaped error answers: the Management API's style, the Authentication API's, and sign-up's own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any


class SandboxError(Exception):
    """An error the sandbox answers with: a status, a JSON body and optional headers."""

    def __init__(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {dict(body)}")
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})


class ManagementError(SandboxError):
    """The Management API's style: ``{"statusCode", "error", "message", "errorCode"}``."""

    def __init__(
        self,
        status: int,
        message: str,
        error_code: str | None = None,
        *,
        attributes: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        body: dict[str, Any] = {"statusCode": status, "error": phrase(status), "message": message}
        if error_code is not None:
            body["errorCode"] = error_code
        if attributes is not None:
            body["attributes"] = dict(attributes)
        super().__init__(status, body, headers)


class OAuthError(SandboxError):
    """The Authentication API's style: ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, {"error": error, "error_description": description}, headers)


class SignupError(SandboxError):
    """``/dbconnections/signup``'s style: ``{"name", "code", "description", "statusCode"}``."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(
            status, {"name": "BadRequestError", "code": code, "description": description, "statusCode": status}
        )


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def bad_request(message: str, error_code: str = "invalid_body") -> ManagementError:
    return ManagementError(400, message, error_code)


def invalid_query(message: str) -> ManagementError:
    return ManagementError(400, f"Query validation error: {message}", "invalid_query_string")


def payload_error(message: str) -> ManagementError:
    return ManagementError(400, f"Payload validation error: {message}", "invalid_body")


def user_not_found() -> ManagementError:
    return ManagementError(404, "The user does not exist.", "inexistent_user")


def role_not_found() -> ManagementError:
    return ManagementError(404, "Role not found", "inexistent_role")


def user_exists() -> ManagementError:
    return ManagementError(409, "The user already exists.", "auth0_idp_error")


def weak_password() -> ManagementError:
    return ManagementError(400, "PasswordStrengthError: Password is too weak", "invalid_password")


def missing_authentication() -> ManagementError:
    return ManagementError(401, "Missing authentication")


def invalid_token(message: str) -> ManagementError:
    return ManagementError(401, message, attributes={"error": message})


def insufficient_scope(expected: Iterable[str]) -> ManagementError:
    return ManagementError(403, "Insufficient scope, expected any of: " + ",".join(expected), "insufficient_scope")


def too_many_requests(headers: Mapping[str, str] | None = None) -> ManagementError:
    return ManagementError(429, "Global limit has been reached", "too_many_requests", headers=headers)


def not_found() -> ManagementError:
    return ManagementError(404, "Not Found")


def method_not_allowed(allowed: Iterable[str]) -> ManagementError:
    allow = ", ".join(sorted(set(allowed)))
    return ManagementError(405, "Method Not Allowed", headers={"Allow": allow})


def server_error(status: int = 500) -> ManagementError:
    """A 5xx like the recorded ``error_500_internal.json``: no errorCode."""
    return ManagementError(status, phrase(status))


def oauth_server_error(status: int = 500) -> OAuthError:
    return OAuthError(status, "server_error", phrase(status))
