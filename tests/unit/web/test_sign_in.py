"""``POST /auth0/post-login``: the Action's secret, the body, the recorded Management API answers, one log line."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from chalice.test import Client

from chalicelib import wiring
from tests.auth0_replay import Auth0Replay, fixture
from tests.chalice_client import app_client
from tests.purchase_support import mock_token_endpoint, set_purchase_env

SECRET = "post-login-secret-for-tests-0123456789"
GOOGLE_ID = "google-oauth2|114122672322102083341"
PRIMARY_ID = "auth0|6560a1f0c2e4b0a1b2c3d4e5"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    set_purchase_env(monkeypatch, POST_LOGIN_SECRET=SECRET)
    wiring.clear_caches()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock_token_endpoint(mock)
        with app_client() as test_client:
            yield test_client
    wiring.clear_caches()


def post(client: Client, body: Any, *, secret: str | None = SECRET, headers: dict[str, str] | None = None) -> Any:
    sent = {**JSON, **({"Authorization": f"Bearer {secret}"} if secret is not None else {}), **(headers or {})}
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.http.post("/auth0/post-login", headers=sent, body=payload)


def linked_account() -> list[dict[str, Any]]:
    """users-by-email for alice@example.com: the service's user holding the purchase (lower-case) only."""
    (holder, _) = copy.deepcopy(fixture("users_by_email_linked.json"))
    holder["identities"] = holder["identities"][:1]
    return [holder]


def google_user(verified: bool) -> dict[str, Any]:
    (_, google) = copy.deepcopy(fixture("users_by_email_linked.json"))
    google["email_verified"] = verified
    return dict(google)


def test_a_verified_google_sign_in_is_linked_into_the_account_that_holds_the_purchase(
    client: Client, auth0_replay: Auth0Replay, caplog: pytest.LogCaptureFixture
) -> None:
    auth0_replay.reply("GET", f"/users/{GOOGLE_ID}", body=google_user(verified=True), query=None)
    auth0_replay.reply("GET", "/users-by-email", body=linked_account())
    auth0_replay.reply(
        "POST", f"/users/{PRIMARY_ID}/identities", status=201, body=fixture("user_identities_linked.json")
    )

    with caplog.at_level(logging.INFO, logger="gumroad_auth0.sign_in"):
        answer = post(client, {"user_id": GOOGLE_ID})

    assert answer.status_code == 200
    assert json.loads(answer.body) == {"result": "linked", "primary_user_id": PRIMARY_ID}
    assert json.loads(auth0_replay.requests[2].content) == {
        "provider": "google-oauth2",
        "user_id": GOOGLE_ID.split("|")[1],
    }
    assert auth0_replay.requests[1].url.params["email"] == "alice@example.com"
    (line,) = [
        json.loads(record.getMessage()) for record in caplog.records if "sign_in_answered" in record.getMessage()
    ]
    # Three Management API requests, and this cold container's M2M token.
    assert (line["status"], line["result"], line["auth0_calls"], line["provider"]) == (
        200,
        "linked",
        4,
        "google-oauth2",
    )
    assert SECRET not in caplog.text
    assert "alice@example.com" not in caplog.text


def test_an_unverified_google_sign_in_is_answered_unverified_after_one_read(
    client: Client, auth0_replay: Auth0Replay
) -> None:
    auth0_replay.reply("GET", f"/users/{GOOGLE_ID}", body=google_user(verified=False), query=None)

    answer = post(client, {"user_id": GOOGLE_ID})

    assert (answer.status_code, json.loads(answer.body)) == (200, {"result": "unverified"})


@pytest.mark.parametrize(
    ("secret", "headers"),
    [
        (None, None),
        ("not-the-secret", None),
        ("", None),
        (None, {"Authorization": f"Basic {SECRET}"}),
    ],
)
def test_without_the_actions_secret_nothing_is_read_and_the_answer_is_401(
    client: Client, auth0_replay: Auth0Replay, secret: str | None, headers: dict[str, str] | None
) -> None:
    answer = post(client, {"user_id": GOOGLE_ID}, secret=secret, headers=headers)

    assert answer.status_code == 401
    assert json.loads(answer.body)["error"] == "unauthorized"
    assert auth0_replay.requests == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"user_id": GOOGLE_ID, "email": "alice@example.com", "email_verified": True}),
        json.dumps({"user_id": "alice@example.com"}),
        json.dumps({"user_id": 42}),
        json.dumps({}),
        json.dumps({"user_id": "x" * 5000}),
    ],
)
def test_a_body_that_is_not_just_a_user_id_is_400_and_reads_nothing(
    client: Client, auth0_replay: Auth0Replay, body: str
) -> None:
    answer = post(client, body)

    assert answer.status_code == 400
    assert json.loads(answer.body)["error"] == "invalid_request"
    assert auth0_replay.requests == []


def test_another_content_type_is_415(client: Client, auth0_replay: Auth0Replay) -> None:
    answer = post(client, json.dumps({"user_id": GOOGLE_ID}), headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415


def test_another_method_is_405(client: Client) -> None:
    answer = client.http.get("/auth0/post-login")
    assert answer.status_code == 405


def test_auth0_failing_is_a_503_in_the_services_shape_and_the_login_goes_on_without_it(
    client: Client, auth0_replay: Auth0Replay
) -> None:
    for _ in range(4):
        auth0_replay.reply(
            "GET", f"/users/{GOOGLE_ID}", status=500, body=fixture("error_500_internal.json"), query=None
        )

    answer = post(client, {"user_id": GOOGLE_ID})

    assert answer.status_code == 503
    assert set(json.loads(answer.body)) == {"error", "error_description"}


def test_no_configured_secret_is_a_503_that_names_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    set_purchase_env(monkeypatch, POST_LOGIN_SECRET=None)
    wiring.clear_caches()
    with app_client() as test_client:
        answer = post(test_client, {"user_id": GOOGLE_ID})
    wiring.clear_caches()

    assert answer.status_code == 503
    assert json.loads(answer.body)["error"] == "service_misconfigured"
