"""The password-realm grant: the token the service's verifier accepts, and brute-force protection per user and IP."""

from __future__ import annotations

import jwt
import pytest
from auth0.authentication.exceptions import Auth0Error, RateLimitError

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    OTHER_PERMISSION,
    OTHER_ROLE,
    PASSWORD,
    PERMISSION,
    ROLE,
    api,
    create_buyer,
    dev,
    login,
    service_verifier,
)


def test_sign_in_gives_a_token_with_the_assigned_roles_that_the_services_verifier_accepts(
    server: SandboxServer,
) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE, OTHER_ROLE]})
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    answer = login(server, "buyer@example.com", PASSWORD, forwarded_for="203.0.113.7")
    assert set(answer) == {"access_token", "id_token", "scope", "expires_in", "token_type"}
    verified = service_verifier(server).verify(answer["access_token"])
    assert verified.subject == user_id
    assert verified.grants(PERMISSION)
    assert verified.grants(OTHER_PERMISSION)
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert set(claims) >= {"iss", "sub", "aud", "iat", "exp", "azp", "scope", "permissions"}
    assert claims["iss"] == f"{server.base_url}/"
    assert jwt.get_unverified_header(answer["access_token"])["kid"]
    (entry,) = dev(server, "GET", "state").json()["logins"]
    assert (entry["forwarded_for"], entry["ip"], entry["outcome"]) == ("203.0.113.7", "203.0.113.7", "success")


def test_wrong_passwords_are_403_then_the_user_and_ip_are_blocked_with_429(server: SandboxServer) -> None:
    create_buyer(server)
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    for _ in range(10):
        with pytest.raises(Auth0Error) as wrong:
            login(server, "buyer@example.com", "wrong password", forwarded_for="198.51.100.1")
        assert (wrong.value.status_code, wrong.value.error_code) == (403, "invalid_grant")
        assert wrong.value.message == "Wrong email or password."
    with pytest.raises(RateLimitError) as blocked:
        login(server, "buyer@example.com", PASSWORD, forwarded_for="198.51.100.1")
    assert blocked.value.error_code == "too_many_attempts"
    assert login(server, "buyer@example.com", PASSWORD, forwarded_for="198.51.100.2")["access_token"]
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    assert login(server, "buyer@example.com", PASSWORD, forwarded_for="198.51.100.1")["access_token"]


def test_an_unknown_user_or_a_user_without_password_gets_wrong_email_or_password(server: SandboxServer) -> None:
    create_buyer(server)
    for email, password in (("nobody@example.com", PASSWORD), ("buyer@example.com", "Random-Password-2!")):
        with pytest.raises(Auth0Error) as raised:
            login(server, email, password)
        assert (raised.value.status_code, raised.value.error_code) == (403, "invalid_grant")
