"""``POST /gumroad/ping`` through Chalice's test client: authentication, answers, logs."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import responses
from chalice.test import Client

from chalicelib import wiring
from tests.auth0_replay import USER_ID, Auth0Replay, created_user, fixture, found_user
from tests.chalice_client import app_client
from tests.purchase_support import (
    PING_SECRET,
    PURCHASE_ENV,
    form_body,
    mock_change_password,
    mock_token_endpoint,
    recorded_body,
    set_purchase_env,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ROLES_PATH = f"/users/{USER_ID}/roles"


def basic(password: str, user: str = "gumroad") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class Harness:
    client: Client
    replay: Auth0Replay
    token_endpoint: responses.BaseResponse

    def ping(self, body: str, *, headers: dict[str, str] | None = None, path: str = "/gumroad/ping") -> Any:
        merged = {**FORM, **basic(PING_SECRET)} if headers is None else headers
        return self.client.http.post(path, headers=merged, body=body)


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch, auth0_replay: Auth0Replay) -> Iterator[Harness]:
    set_purchase_env(monkeypatch)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock, app_client() as client:
        token = mock_token_endpoint(mock)
        mock_change_password(mock)
        yield Harness(client, auth0_replay, token)


def body_of(response: Any) -> Any:
    return json.loads(response.body)


def test_a_sale_with_the_secret_as_basic_password_is_processed_and_answered_200(harness: Harness) -> None:
    harness.replay.reply("GET", "/users-by-email", body=[])
    harness.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    harness.replay.reply("POST", ROLES_PATH, status=204)

    response = harness.ping(recorded_body("sale"))

    assert response.status_code == 200
    assert body_of(response) == {
        "status": "processed",
        "event": "sale",
        "course": "serverless-handbook",
        "changes": ["user_created", "role_assigned", "onboarding_sent"],
    }
    harness.replay.assert_finished()


def test_the_user_name_of_the_basic_credentials_is_ignored(harness: Harness) -> None:
    response = harness.ping(recorded_body("test_ping"), headers={**FORM, **basic(PING_SECRET, user="anything")})

    assert response.status_code == 200
    assert body_of(response) == {"status": "ignored", "event": "test", "reason": "test_ping"}


def test_the_secret_may_come_as_the_token_query_parameter(harness: Harness) -> None:
    response = harness.ping(recorded_body("test_ping"), headers=FORM, path=f"/gumroad/ping?token={PING_SECRET}")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(FORM, id="no-secret"),
        pytest.param({**FORM, **basic("wrong-secret")}, id="wrong-basic-password"),
        pytest.param({**FORM, "Authorization": f"Bearer {PING_SECRET}"}, id="other-scheme"),
    ],
)
def test_a_ping_without_the_right_secret_is_401_and_reaches_no_auth0(harness: Harness, headers: dict[str, str]) -> None:
    response = harness.ping(recorded_body("sale"), headers=headers)

    assert response.status_code == 401
    assert body_of(response)["error"] == "unauthorized"
    assert harness.replay.requests == []
    assert harness.token_endpoint.call_count == 0


def test_a_wrong_token_parameter_is_401(harness: Harness) -> None:
    response = harness.ping(recorded_body("sale"), headers=FORM, path="/gumroad/ping?token=guess")

    assert response.status_code == 401
    assert harness.replay.requests == []


def test_another_sellers_ping_is_403(harness: Harness) -> None:
    response = harness.ping(form_body("sale", seller_id="someoneElse000000000000=="))

    assert response.status_code == 403
    assert body_of(response)["error"] == "forbidden"
    assert harness.replay.requests == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param(form_body("sale", sale_id=None), "sale_id", id="missing-sale-id"),
        pytest.param(form_body("sale", email=None), "email", id="missing-email"),
        pytest.param("sale_id=%ZZ&%%%", "decoded", id="garbage"),
        pytest.param(form_body("sale", resource_name=None), "resource_name", id="no-resource-and-not-a-test"),
        # Values Gumroad can never send (issue 15, item 3).
        pytest.param(
            form_body("sale", sale_id="FO8TXN-dbxYaBdahG97Y-Q==\x00"), "sale_id holds a control", id="nul-sale-id"
        ),
        pytest.param(form_body("sale", full_name="Mallory\x00Admin"), "full_name holds a control", id="nul-full-name"),
        pytest.param(form_body("refund", product_id="\x00"), "product_id holds a control", id="nul-product-id"),
        pytest.param(form_body("cancellation", subscription_id="Gaz\x1b[2J"), "subscription_id", id="escape-in-id"),
        pytest.param(
            recorded_body("sale") + "&x" + "%5Bx%5D" * 10_000 + "=1", "nests deeper than", id="key-10000-levels-deep"
        ),
    ],
)
def test_a_malformed_ping_is_400_and_changes_nothing(harness: Harness, body: str, needle: str) -> None:
    response = harness.ping(body)

    assert response.status_code == 400
    assert body_of(response)["error"] == "malformed_ping"
    assert needle in body_of(response)["error_description"]
    assert harness.replay.requests == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_other_content_types_are_415_in_the_services_own_shape(harness: Harness, content_type: str) -> None:
    response = harness.ping(recorded_body("sale"), headers={"Content-Type": content_type, **basic(PING_SECRET)})

    assert response.status_code == 415
    assert body_of(response)["error"] == "unsupported_media_type"


def test_a_json_body_is_accepted_with_native_types(harness: Harness) -> None:
    harness.replay.reply("GET", "/users-by-email", body=found_user(app_metadata={}))
    harness.replay.reply("POST", ROLES_PATH, status=204)
    harness.replay.reply("PATCH", f"/users/{USER_ID}", body=fixture("user_updated.json"))
    document = {
        "seller_id": PURCHASE_ENV["GUMROAD_SELLER_ID"],
        "product_id": "32-nPAicqbLj8B_WswVlMw==",
        "email": "customer@example.com",
        "sale_id": "FO8TXN-dbxYaBdahG97Y-Q==",
        "refunded": False,
        "disputed": False,
        "dispute_won": False,
        "resource_name": "sale",
        "quantity": 1,
        "card": {"visual": "**** **** **** 4062", "type": "visa"},
    }

    response = harness.ping(json.dumps(document), headers={"Content-Type": "application/json", **basic(PING_SECRET)})

    assert response.status_code == 200
    assert body_of(response)["status"] == "processed"


def test_an_auth0_outage_answers_503_so_gumroad_redelivers(harness: Harness) -> None:
    for _ in range(4):
        harness.replay.reply("GET", "/users-by-email", status=500, body=fixture("error_500_internal.json"))

    response = harness.ping(recorded_body("sale"))

    assert response.status_code == 503
    assert body_of(response)["error"] == "upstream_unavailable"
    assert response.headers["Retry-After"] == "60"


def test_a_refund_before_its_sale_answers_503_for_a_later_redelivery(harness: Harness) -> None:
    harness.replay.reply("GET", "/users-by-email", body=[])

    response = harness.ping(recorded_body("refund"))

    assert response.status_code == 503
    assert body_of(response)["error"] == "purchase_not_yet_known"


def test_a_broken_configuration_answers_503_and_logs_the_variable(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AUTH0_DOMAIN", "http://auth0.example.com")
    wiring.clear_caches()

    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(recorded_body("sale"))

    assert response.status_code == 503
    assert body_of(response)["error"] == "service_misconfigured"
    assert "AUTH0_DOMAIN" not in response.body.decode(), "configuration details stay in the log"
    assert "AUTH0_DOMAIN" in caplog.text


def test_one_log_line_per_ping_with_a_masked_buyer_and_no_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.replay.reply("GET", "/users-by-email", body=[])
    harness.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    harness.replay.reply("POST", ROLES_PATH, status=204)

    with caplog.at_level(logging.DEBUG):  # every logger, httpx's and the SDK's included
        harness.ping(recorded_body("sale"), headers=FORM, path=f"/gumroad/ping?token={PING_SECRET}")

    lines = [record.getMessage() for record in caplog.records if record.name == "gumroad_auth0.ping"]
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["status"] == 200
    assert line["outcome"] == "processed"
    assert line["resource"] == "sale"
    assert line["sale_id"] == "FO8TXN-dbxYaBdahG97Y-Q=="
    assert line["course"] == "serverless-handbook"
    assert line["buyer"] == "c***r@example.com"
    assert line["auth0_calls"] == 5, "token + lookup + create + role + onboarding e-mail"
    assert "duration_ms" in line
    assert PING_SECRET not in caplog.text
    assert "customer@example.com" not in caplog.text
    assert "customer%40example.com" not in caplog.text, "not even inside a logged URL"
    assert "4062" not in caplog.text, "no card data"


VICTIM = "victim@example.com"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(form_body("test_ping", sale_id=VICTIM), "sale_id", id="sale-id"),
        pytest.param(form_body("sale", seller_id=VICTIM), "seller_id", id="seller-id-refused-403"),
        pytest.param(form_body("test_ping", product_id=VICTIM), "product_id", id="product-id"),
        pytest.param(form_body("test_ping", subscription_id=VICTIM), "subscription_id", id="subscription-id"),
        pytest.param(form_body("cancellation", subscription_id=VICTIM), "subscription_id", id="membership-id"),
        pytest.param(form_body("sale", resource_name=VICTIM), "resource", id="resource-name"),
        # Lines for review, beside the ping's own line.
        pytest.param(form_body("sale", email="not an address", sale_id=VICTIM), "sale_id", id="purchase-for-review"),
        pytest.param(
            form_body("sale", **{"custom_fields[email]": "x", "sale_id": VICTIM}), "sale_id", id="sale-for-review"
        ),
    ],
)
def test_an_address_in_a_pings_id_or_resource_never_reaches_the_log(
    harness: Harness, caplog: pytest.LogCaptureFixture, body: str, field: str
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = harness.ping(body)

    assert response.status_code in (200, 403)
    [line] = ping_lines(caplog)
    assert line[field] == "<masked>"
    assert "victim" not in caplog.text
    assert harness.replay.requests == []


def test_a_rejected_ping_is_logged_with_its_error_code(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        harness.ping(recorded_body("sale"), headers={**FORM, **basic("not-the-secret")})

    line = json.loads(next(r.getMessage() for r in caplog.records if r.name == "gumroad_auth0.ping"))
    assert (line["status"], line["error"]) == (401, "unauthorized")
    assert "not-the-secret" not in caplog.text


# --- hardening: nothing a stranger sends becomes a 500 ----------------------------------------------


def ping_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.ping"]


@pytest.mark.parametrize("query", ["?source=gumroad", "?", "?tok=1&token_x=2"])
def test_a_ping_url_with_a_query_string_but_no_token_is_answered(harness: Harness, query: str) -> None:
    response = harness.ping(recorded_body("test_ping"), path=f"/gumroad/ping{query}")

    assert response.status_code == 200
    assert body_of(response)["reason"] == "test_ping"


@pytest.mark.parametrize(
    "credentials",
    ["Basic \xc3\xa9", "Basic é", "Basic !!!!", "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), "Basic"],
)
def test_basic_credentials_that_do_not_decode_are_401(harness: Harness, credentials: str) -> None:
    response = harness.ping(recorded_body("sale"), headers={**FORM, "Authorization": credentials})

    assert response.status_code == 401
    assert body_of(response)["error"] == "unauthorized"
    assert harness.replay.requests == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("retry_count", "1e400"),
        ("retry_count", "Infinity"),
        ("retry_count", "NaN"),
        ("sale_timestamp", "0001-01-01T00:00:00+05:00"),
        ("sale_timestamp", "9999-12-31T23:00:00-05:00"),
    ],
)
def test_pathological_values_are_400_with_one_log_line(
    harness: Harness, caplog: pytest.LogCaptureFixture, field: str, value: str
) -> None:
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(form_body("sale", **{field: value}))

    assert response.status_code == 400
    assert body_of(response)["error"] == "malformed_ping"
    assert [(line["status"], line["error"]) for line in ping_lines(caplog)] == [(400, "malformed_ping")]
    assert harness.replay.requests == []


def test_a_json_ping_with_a_huge_integer_is_400_with_one_log_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    body = '{"resource_name": "sale", "price": ' + "9" * 5000 + "}"
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(body, headers={"Content-Type": "application/json", **basic(PING_SECRET)})

    assert response.status_code == 400
    assert [(line["status"], line["error"]) for line in ping_lines(caplog)] == [(400, "malformed_ping")]


def test_an_unexpected_failure_is_a_503_that_gumroad_retries_with_one_log_line(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, event: object) -> object:
        raise TypeError("a bug quoting customer@example.com")

    monkeypatch.setattr(wiring.LivePingServices, "dispatch", broken)
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(recorded_body("sale"))

    assert response.status_code == 503
    assert body_of(response)["error"] == "internal_error"
    [line] = ping_lines(caplog)
    assert (line["status"], line["error"]) == (503, "internal_error")
    assert line["detail"].startswith("TypeError at ")
    assert "customer@example.com" not in caplog.text


def test_a_buyer_address_auth0_cannot_hold_is_200_ignored_for_review_and_reaches_no_auth0(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(form_body("sale", email="fuzz@example.com\x00"))

    assert response.status_code == 200
    assert body_of(response) == {
        "status": "ignored",
        "event": "sale",
        "reason": "unusable_buyer_email",
        "course": "serverless-handbook",
    }
    assert harness.replay.requests == []
    assert '"event":"purchase_needs_review"' in caplog.text


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_another_method_on_the_ping_path_is_405_in_the_service_shape(harness: Harness, method: str) -> None:
    response = harness.client.http.request(method, "/gumroad/ping", headers={**FORM, **basic(PING_SECRET)}, body=b"")

    assert response.status_code == 405
    assert body_of(response) == {
        "error": "method_not_allowed",
        "error_description": "this path does not accept this method",
    }
    assert response.headers["Allow"] == "POST"
