"""Validation of Management API request bodies, failing with Auth0's ``invalid_body`` answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.errors import payload_error
from sandbox.http.wire import json_type
from sandbox.tenant.users import NewUser

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_STRING = ("email", "given_name", "family_name", "name", "nickname", "picture", "connection", "password")
_BOOLEAN = ("blocked", "email_verified", "verify_email")
_OBJECT = ("user_metadata", "app_metadata")
_CREATE_KEYS = frozenset(_STRING + _BOOLEAN + _OBJECT)
_UPDATE_KEYS = _CREATE_KEYS - {"email", "verify_email"}
_PROFILE_KEYS = ("blocked", "given_name", "family_name")


def parse_new_user(body: Mapping[str, Any]) -> NewUser:
    _check_properties(body, _CREATE_KEYS)
    for name in ("connection", "email"):
        if name not in body:
            raise payload_error(f"'Missing required property: {name}'.")
    email = body["email"]
    if not _EMAIL.match(email):
        raise payload_error(f"'Object didn't pass validation for format email: {email}' on property email.")
    return NewUser(
        connection=body["connection"],
        email=email.strip().lower(),
        password=body.get("password"),
        email_verified=bool(body.get("email_verified", False)),
        verify_email=body.get("verify_email"),
        name=body.get("name"),
        nickname=body.get("nickname"),
        picture=body.get("picture"),
        app_metadata=body.get("app_metadata"),
        user_metadata=body.get("user_metadata"),
        profile={key: body[key] for key in _PROFILE_KEYS if key in body},
    )


def parse_user_update(body: Mapping[str, Any]) -> dict[str, Any]:
    """A validated ``PATCH /api/v2/users/{id}`` body (at least one known property)."""
    if not body:
        raise payload_error("'Too few properties defined (0), minimum 1'.")
    _check_properties(body, _UPDATE_KEYS)
    return dict(body)


def parse_role_ids(body: Mapping[str, Any]) -> list[str]:
    """The ``roles`` array of ``POST``/``DELETE /api/v2/users/{id}/roles``."""
    _check_unknown(body, frozenset({"roles"}))
    roles = body.get("roles")
    if roles is None:
        raise payload_error("'Missing required property: roles'.")
    if not isinstance(roles, list):
        raise payload_error(f"'Expected type array but found type {json_type(roles)}' on property roles.")
    if not roles:
        raise payload_error("'Array is too short (0), minimum 1' on property roles.")
    for role in roles:
        if not isinstance(role, str) or not role:
            raise payload_error(f"'Expected type string but found type {json_type(role)}' on property roles.")
    return list(dict.fromkeys(roles))


def parse_link(body: Mapping[str, Any]) -> tuple[str, str]:
    """``POST /api/v2/users/{id}/identities`` the server-side way: ``provider`` and the secondary's ``user_id``.

    The user-initiated form (``link_with``, a secondary ID token) is not supported here.
    """
    _check_unknown(body, frozenset({"provider", "user_id", "connection_id", "link_with"}))
    if "link_with" in body:
        raise payload_error("'link_with (a secondary account's ID token) is not supported by the sandbox'.")
    for name in ("provider", "user_id"):
        if name not in body:
            raise payload_error(f"'Missing required property: {name}'.")
        if not isinstance(body[name], str) or not body[name]:
            raise payload_error(f"'Expected type string but found type {json_type(body[name])}' on property {name}.")
    return body["provider"], body["user_id"]


def parse_verification_job(body: Mapping[str, Any]) -> str:
    """The ``user_id`` of ``POST /api/v2/jobs/verification-email``."""
    _check_unknown(body, frozenset({"user_id", "client_id", "identity", "organization_id"}))
    user_id = body.get("user_id")
    if user_id is None:
        raise payload_error("'Missing required property: user_id'.")
    if not isinstance(user_id, str):
        raise payload_error(f"'Expected type string but found type {json_type(user_id)}' on property user_id.")
    return user_id


def _check_properties(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    _check_unknown(body, allowed)
    for name, value in body.items():
        expected = _expected_type(name)
        if json_type(value) != expected:
            raise payload_error(f"'Expected type {expected} but found type {json_type(value)}' on property {name}.")


def _check_unknown(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = [name for name in body if name not in allowed]
    if unknown:
        raise payload_error(f"'Additional properties not allowed: {','.join(unknown)}'.")


def _expected_type(name: str) -> str:
    if name in _BOOLEAN:
        return "boolean"
    if name in _OBJECT:
        return "object"
    return "string"
