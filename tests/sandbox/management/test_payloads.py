"""Management API bodies: what Auth0's validation refuses, with its ``invalid_body`` answers."""

from __future__ import annotations

import json

import pytest

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    CONNECTION,
    PASSWORD,
    api,
)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "Invalid request payload JSON format"),
        (b"[]", "Expected type object but found type array"),
        (
            json.dumps({"email": "a@example.com", "password": PASSWORD}).encode(),
            "Missing required property: connection",
        ),
        (json.dumps({"connection": CONNECTION, "email": 7}).encode(), "Expected type string but found type integer"),
        (json.dumps({"connection": CONNECTION, "email": "not-an-email"}).encode(), "format email"),
        (json.dumps({"connection": CONNECTION, "email": "a@example.com", "x": 1}).encode(), "Additional properties"),
    ],
)
def test_bad_user_bodies_get_400_invalid_body(server: SandboxServer, body: bytes, fragment: str) -> None:
    answer = api(server, "POST", "/api/v2/users", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "invalid_body"
    assert answer.json()["error"] == "Bad Request"
    assert fragment in answer.json()["message"]
