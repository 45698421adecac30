"""Linking and unlinking (``/api/v2/users/{id}/identities``) and bulk refresh-token revocation, as Auth0 has them."""

from __future__ import annotations

from typing import Any

import pytest
from auth0.management import Auth0

from sandbox.server import SandboxServer
from tests.sandbox.browser import Browser, Pkce, claims_of, code_from, exchange
from tests.sandbox.support import PASSWORD, ROLE, api, dev, fixture, login


def seed(server: SandboxServer, email: str, connection: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"email": email, **({"connection": connection} if connection else {}), **extra}
    answer = dev(server, "POST", "users", json=body)
    assert answer.status_code == 201, answer.text
    user: dict[str, Any] = answer.json()
    return user


def test_linking_answers_201_with_the_primarys_identities_in_the_recorded_shape(server: SandboxServer) -> None:
    primary = seed(server, "alice@example.com", app_metadata={"gumroad_x": {"v": 1}})
    google = seed(server, "Alice@Example.com", "google-oauth2")

    answer = api(
        server,
        "POST",
        f"/api/v2/users/{primary['user_id']}/identities",
        json={"provider": "google-oauth2", "user_id": google["user_id"].split("|")[1]},
    )
    recorded = fixture("user_identities_linked.json")
    assert answer.status_code == 201
    identities = answer.json()
    assert [set(identity) for identity in identities] == [set(identity) for identity in recorded]
    assert identities[0]["user_id"] == primary["user_id"].split("|")[1]
    assert identities[1]["user_id"] == google["user_id"].split("|")[1]
    assert identities[1]["profileData"]["email"] == "Alice@Example.com"
    assert identities[1]["profileData"]["email_verified"] is True


def test_the_secondary_leaves_the_users_list_and_keeps_nothing_of_its_own(server: SandboxServer) -> None:
    primary = seed(server, "bob@example.com", app_metadata={"gumroad_x": {"v": 1}})
    secondary = seed(server, "bob@example.com", "email", roles=[ROLE], app_metadata={"gumroad_y": {"v": 1}})
    api(
        server,
        "POST",
        f"/api/v2/users/{primary['user_id']}/identities",
        json={"provider": "email", "user_id": secondary["user_id"]},
    )

    assert api(server, "GET", f"/api/v2/users/{secondary['user_id']}").status_code == 404
    (found,) = api(server, "GET", "/api/v2/users-by-email", params={"email": "bob@example.com"}).json()
    assert found["user_id"] == primary["user_id"]
    assert [identity["provider"] for identity in found["identities"]] == ["auth0", "email"]
    assert found["app_metadata"] == {"gumroad_x": {"v": 1}}  # the secondary's metadata is discarded
    assert api(server, "GET", f"/api/v2/users/{primary['user_id']}/roles").json() == []  # and its roles


def test_signing_in_with_a_linked_identity_signs_in_as_the_primary(server: SandboxServer) -> None:
    primary = seed(server, "carol@example.com")
    secondary = seed(server, "carol@example.com", "email")
    api(
        server,
        "POST",
        f"/api/v2/users/{primary['user_id']}/identities",
        json={"provider": "email", "user_id": secondary["user_id"]},
    )

    pkce = Pkce()
    answer = Browser(server).passwordless(pkce, "carol@example.com")
    tokens = exchange(server, code_from(answer, pkce), pkce).json()
    assert claims_of(tokens["id_token"])["sub"] == primary["user_id"]


def test_a_linked_database_identity_keeps_its_own_password(server: SandboxServer) -> None:
    google = seed(server, "dan@example.com", "google-oauth2")
    database = seed(server, "dan@example.com", password=PASSWORD)
    api(
        server,
        "POST",
        f"/api/v2/users/{google['user_id']}/identities",
        json={"provider": "auth0", "user_id": database["user_id"]},
    )

    tokens = login(server, "dan@example.com", PASSWORD)
    assert claims_of(tokens["access_token"])["sub"] == google["user_id"]


def test_unlinking_makes_the_secondary_a_user_again_without_metadata(server: SandboxServer) -> None:
    primary = seed(server, "erin@example.com")
    secondary = seed(server, "erin@example.com", "email", app_metadata={"k": {"v": 1}})
    local = secondary["user_id"].split("|")[1]
    api(server, "POST", f"/api/v2/users/{primary['user_id']}/identities", json={"provider": "email", "user_id": local})

    answer = api(server, "DELETE", f"/api/v2/users/{primary['user_id']}/identities/email/{local}")
    assert answer.status_code == 200
    assert [set(identity) for identity in answer.json()] == [set(i) for i in fixture("user_identities_unlinked.json")]
    restored = api(server, "GET", f"/api/v2/users/{secondary['user_id']}").json()
    assert restored["user_id"] == secondary["user_id"]
    assert "app_metadata" not in restored


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"provider": "email"}, 400, "invalid_body"),
        ({"provider": "email", "user_id": 7}, 400, "invalid_body"),
        ({"link_with": "eyJ..."}, 400, "invalid_body"),
        ({"provider": "email", "user_id": "000000000000000000000000"}, 404, "inexistent_user"),
    ],
)
def test_a_bad_link_is_refused_and_changes_nothing(
    server: SandboxServer, body: dict[str, Any], status: int, code: str
) -> None:
    primary = seed(server, "frank@example.com")
    answer = api(server, "POST", f"/api/v2/users/{primary['user_id']}/identities", json=body)

    assert (answer.status_code, answer.json().get("errorCode")) == (status, code)
    assert len(api(server, "GET", f"/api/v2/users/{primary['user_id']}").json()["identities"]) == 1


def test_a_user_cannot_be_linked_into_itself(server: SandboxServer) -> None:
    primary = seed(server, "gina@example.com")
    answer = api(
        server,
        "POST",
        f"/api/v2/users/{primary['user_id']}/identities",
        json={"provider": "auth0", "user_id": primary["user_id"]},
    )
    assert answer.status_code == 400


def test_linking_needs_update_users(server: SandboxServer) -> None:
    primary = seed(server, "hank@example.com")
    secondary = seed(server, "hank@example.com", "email")
    token = server.management_token(scope="read:users")
    answer = api(
        server,
        "POST",
        f"/api/v2/users/{primary['user_id']}/identities",
        token=token,
        json={"provider": "email", "user_id": secondary["user_id"]},
    )
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == "insufficient_scope"


def test_auth0_python_links_with_provider_and_user_id(server: SandboxServer, management: Auth0) -> None:
    primary = seed(server, "ivy@example.com")
    secondary = seed(server, "ivy@example.com", "email")

    linked = management.users.identities.link(
        primary["user_id"], provider="email", user_id=secondary["user_id"].split("|")[1]
    )
    assert [identity.provider for identity in linked] == ["auth0", "email"]
