"""``/api/v2/users``: the recorded shapes, auth0-python's calls, and Auth0's answers to unknown users and bad input."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError
from auth0.management.errors import ConflictError, NotFoundError

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    CONNECTION,
    PASSWORD,
    ROLE,
    USER_FIELDS,
    api,
    create_buyer,
    dev,
    fixture,
    login,
)


def test_a_created_user_has_exactly_the_keys_of_the_recorded_user_created(server: SandboxServer) -> None:
    created = create_buyer(server)
    recorded = fixture("user_created.json")
    assert set(created) == set(recorded)
    assert set(created["identities"][0]) == set(recorded["identities"][0])
    assert {key: type(value) for key, value in created.items()} == {key: type(value) for key, value in recorded.items()}
    assert re.fullmatch(r"auth0\|[0-9a-f]{24}", created["user_id"])
    assert created["identities"][0]["user_id"] == created["user_id"].split("|")[1]


def test_users_by_email_with_fields_answers_only_those_fields_like_the_recording(server: SandboxServer) -> None:
    create_buyer(server, "customer@example.com")
    answer = api(
        server,
        "GET",
        "/api/v2/users-by-email",
        params={"email": "customer@example.com", "fields": USER_FIELDS, "include_fields": "true"},
    )
    recorded = fixture("users_by_email_found.json")
    assert answer.status_code == 200
    assert [set(user) for user in answer.json()] == [set(user) for user in recorded]
    assert set(answer.json()[0]["identities"][0]) == set(recorded[0]["identities"][0])


def test_a_buyer_who_used_the_e_mailed_ticket_and_signed_in_has_the_keys_of_the_recording(
    server: SandboxServer,
) -> None:
    create_buyer(server, "customer@example.com")  # as the service does: a random password, empty app_metadata
    asked = requests.post(
        f"{server.base_url}/dbconnections/change_password",
        json={"client_id": "sandbox-m2m-client", "email": "customer@example.com", "connection": CONNECTION},
        timeout=10,
    )
    assert asked.status_code == 200
    [message] = dev(server, "GET", "outbox", params={"to": "customer@example.com"}).json()["messages"]
    ticket = message["ticket"]
    assert "last_password_reset" not in api(server, "GET", f"/api/v2/users/{message['user_id']}").json()
    assert dev(server, "POST", "set-password", json={"ticket": ticket, "password": PASSWORD}).status_code == 200
    login(server, "customer@example.com", PASSWORD)
    login(server, "customer@example.com", PASSWORD)

    answer = api(
        server,
        "GET",
        "/api/v2/users-by-email",
        params={"email": "customer@example.com", "fields": USER_FIELDS, "include_fields": "true"},
    )

    recorded = fixture("users_by_email_password_set.json")
    [user] = answer.json()
    assert [set(user)] == [set(each) for each in recorded]
    assert (user["email_verified"], user["logins_count"]) == (True, 2)
    assert user["last_password_reset"] <= user["last_login"]


def test_a_social_user_found_by_email_has_the_shape_of_the_recorded_social_only_answer(
    server: SandboxServer,
) -> None:
    seeded = dev(server, "POST", "users", json={"email": "customer@example.com", "connection": "google-oauth2"})
    assert seeded.status_code == 201
    answer = api(
        server, "GET", "/api/v2/users-by-email", params={"email": "customer@example.com", "fields": USER_FIELDS}
    )
    recorded = fixture("users_by_email_social_only.json")
    assert [set(user) for user in answer.json()] == [set(user) for user in recorded]
    assert answer.json()[0]["identities"][0] | {"user_id": "x"} == recorded[0]["identities"][0] | {"user_id": "x"}
    assert re.fullmatch(r"google-oauth2\|\d{21}", answer.json()[0]["user_id"])


def test_a_patched_user_who_signed_in_has_exactly_the_keys_of_the_recorded_user_updated(
    server: SandboxServer,
) -> None:
    user = create_buyer(server)
    dev(server, "POST", "set-password", json={"email": "buyer@example.com", "password": PASSWORD})
    login(server, "buyer@example.com", PASSWORD)
    answer = api(server, "PATCH", f"/api/v2/users/{user['user_id']}", json={"app_metadata": {"k": {"v": 1}}})
    recorded = fixture("user_updated.json")
    assert answer.status_code == 200
    assert set(answer.json()) == set(recorded)
    assert answer.json()["logins_count"] == 1


def test_user_roles_with_totals_have_the_shape_of_the_recorded_pages(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    path = f"/api/v2/users/{user_id}/roles"
    query = {"per_page": "100", "page": "0", "include_totals": "true"}
    assert api(server, "GET", path, params=query).json() == fixture("user_roles_empty.json")
    api(server, "POST", path, json={"roles": [ROLE]})
    page = api(server, "GET", path, params=query).json()
    recorded = fixture("user_roles.json")
    assert set(page) == set(recorded)
    assert (page["start"], page["limit"], page["total"]) == (0, 100, 1)
    assert set(page["roles"][0]) == set(recorded["roles"][0])


def test_error_bodies_equal_the_recorded_409_404_and_403(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    duplicate = api(
        server,
        "POST",
        "/api/v2/users",
        json={"connection": CONNECTION, "email": "buyer@example.com", "password": PASSWORD},
    )
    unknown_role = api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": ["rol_Nope"]})
    narrow = server.management_token(scope="read:users")
    no_scope = api(server, "POST", f"/api/v2/users/{user_id}/roles", token=narrow, json={"roles": [ROLE]})
    assert (duplicate.status_code, duplicate.json()) == (409, fixture("error_409_user_exists.json"))
    assert (unknown_role.status_code, unknown_role.json()) == (404, fixture("error_404_role.json"))
    assert (no_scope.status_code, no_scope.json()) == (403, fixture("error_403_insufficient_scope.json"))


def test_auth0_python_finds_creates_assigns_lists_merges_and_removes(server: SandboxServer, management: Auth0) -> None:
    assert (
        management.users.list_users_by_email(email="buyer@example.com", fields=USER_FIELDS, include_fields=True) == []
    )
    created = management.users.create(
        connection=CONNECTION,
        email="Buyer@Example.com",
        password="Random-Password-1!",
        email_verified=False,
        verify_email=False,
        app_metadata={"purchase:a": {"sale": "a"}},
        name="Ada Buyer",
    )
    assert created.user_id is not None
    user_id = created.user_id
    (found,) = management.users.list_users_by_email(email="buyer@example.com", fields=USER_FIELDS, include_fields=True)
    assert (found.user_id, found.email, found.identities[0].connection) == (user_id, "buyer@example.com", CONNECTION)
    management.users.roles.assign(user_id, roles=[ROLE])
    management.users.roles.assign(user_id, roles=[ROLE])  # idempotent, as in Auth0
    pager = management.users.roles.list(user_id, per_page=100, page=0, include_totals=True)
    assert [role.id for role in pager.items or []] == [ROLE]
    management.users.update(user_id, app_metadata={"purchase:b": {"sale": "b"}})
    merged = management.users.update(user_id, app_metadata={"purchase:a": None})
    assert merged.app_metadata == {"purchase:b": {"sale": "b"}}
    assert management.users.get(user_id).name == "Ada Buyer"
    management.users.roles.delete(user_id, roles=[ROLE])
    assert management.users.roles.list(user_id, per_page=100, page=0, include_totals=True).items == []


def test_auth0_python_raises_conflict_for_an_address_that_differs_only_in_case(
    server: SandboxServer, management: Auth0
) -> None:
    create_buyer(server, "buyer@example.com")
    with pytest.raises(ConflictError) as raised:
        management.users.create(connection=CONNECTION, email="BUYER@example.com", password="Random-Password-1!")
    assert raised.value.body["errorCode"] == "auth0_idp_error"


def test_users_by_email_is_an_exact_case_sensitive_match_on_lower_cased_addresses(
    server: SandboxServer, management: Auth0
) -> None:
    create_buyer(server, "Mixed.Case@Example.com")
    assert management.users.list_users_by_email(email="Mixed.Case@Example.com") == []
    assert len(management.users.list_users_by_email(email="mixed.case@example.com")) == 1
    assert management.users.list_users_by_email(email="mixed.case@example.co") == []


def test_unknown_users_are_404_inexistent_user_for_every_user_endpoint(
    server: SandboxServer, management: Auth0
) -> None:
    missing = "auth0|000000000000000000000000"
    calls: list[Callable[[], object]] = [
        lambda: management.users.get(missing),
        lambda: management.users.update(missing, app_metadata={"k": {}}),
        lambda: management.users.roles.assign(missing, roles=[ROLE]),
        lambda: management.users.roles.delete(missing, roles=[ROLE]),
        lambda: management.users.roles.list(missing, per_page=100, page=0, include_totals=True),
        lambda: management.jobs.verification_email.create(user_id=missing),
    ]
    for call in calls:
        # auth0-python raises NotFoundError where the endpoint's spec lists a 404, ApiError elsewhere.
        with pytest.raises(ApiError) as raised:
            call()
        assert (raised.value.status_code, raised.value.body["errorCode"]) == (404, "inexistent_user")
    with pytest.raises(NotFoundError):
        management.users.get(missing)


def test_creating_with_verify_email_sends_a_verification_email(server: SandboxServer, management: Auth0) -> None:
    management.users.create(connection=CONNECTION, email="v@example.com", password=PASSWORD, verify_email=True)
    messages = dev(server, "GET", "outbox", params={"to": "v@example.com"}).json()["messages"]
    assert [message["kind"] for message in messages] == ["verification_email"]


def test_other_bad_requests_get_auth0_shaped_400s(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    answers = [
        api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": []}),
        api(server, "DELETE", f"/api/v2/users/{user_id}/roles", json={"roles": "rol"}),
        api(server, "PATCH", f"/api/v2/users/{user_id}", json={}),
        api(server, "GET", f"/api/v2/users/{user_id}/roles", params={"per_page": "101"}),
        api(server, "GET", "/api/v2/users-by-email"),
        api(
            server, "POST", "/api/v2/users", json={"connection": "nope", "email": "a@example.com", "password": PASSWORD}
        ),
        api(
            server, "POST", "/api/v2/users", json={"connection": CONNECTION, "email": "a@example.com", "password": "x"}
        ),
    ]
    assert [answer.status_code for answer in answers] == [400] * len(answers)
    assert [answer.json()["errorCode"] for answer in answers] == [
        "invalid_body",
        "invalid_body",
        "invalid_body",
        "invalid_query_string",
        "invalid_query_string",
        "inexistent_connection",
        "invalid_password",
    ]
