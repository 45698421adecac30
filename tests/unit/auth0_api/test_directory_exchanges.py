"""Fulfilment through the real Auth0Directory, against recorded Auth0 exchanges (no network)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import responses

from chalicelib import wiring
from chalicelib.deadlines import Deadline, upstream_scope
from chalicelib.errors import PurchaseNotYetKnown, UpstreamRejected, UpstreamUnavailable
from chalicelib.purchases.gumroad import parse_ping
from chalicelib.purchases.outcomes import ALREADY_DONE, IGNORED, PROCESSED, Outcome, plan_change
from chalicelib.purchases.records import CourseRecord, PurchaseState, record_key
from tests.auth0_replay import (
    BASE_URL,
    USER_ID,
    Auth0Replay,
    created_user,
    fixture,
    found_user,
    updated_user,
)
from tests.purchase_support import (
    MEMBERSHIP_ROLE,
    SERVERLESS_ROLE,
    form_body,
    mock_change_password,
    mock_token_endpoint,
    recorded_body,
    set_purchase_env,
)

FORM = "application/x-www-form-urlencoded"
HANDBOOK_KEY = record_key("serverless-handbook")
MEMBERSHIP_KEY = record_key("pro-membership")
SALE_ID = "FO8TXN-dbxYaBdahG97Y-Q=="
MEMBERSHIP_SALE_ID = "FO8TXN-dvxYabdavG97Y-Q=="
SUBSCRIPTION_ID = "GazW4_NBcQy-o7Gjjng7lw=="
SALE_TIME = "2021-01-05T19:38:56Z"  # sale_timestamp of the recorded bodies
USER_PATH = f"/users/{USER_ID}"
ROLES_PATH = f"/users/{USER_ID}/roles"


@dataclass
class Tenant:
    replay: Auth0Replay
    token_endpoint: responses.BaseResponse
    change_password: responses.BaseResponse
    sleeps: list[float]


@pytest.fixture
def tenant(monkeypatch: pytest.MonkeyPatch, auth0_replay: Auth0Replay) -> Iterator[Tenant]:
    set_purchase_env(monkeypatch)
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", sleeps.append)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Tenant(auth0_replay, mock_token_endpoint(mock), mock_change_password(mock), sleeps)


def handle(body: str, *, content_type: str = FORM) -> Outcome:
    event = parse_ping(content_type, body.encode("utf-8"))
    with upstream_scope(Deadline.after(4.0)):
        return wiring.get_fulfilment().handle(event)


def active_record(
    *purchases: PurchaseState, slug: str = "serverless-handbook", role: str = SERVERLESS_ROLE
) -> dict[str, Any]:
    record = CourseRecord(slug=slug, role_id=role, purchases=purchases, role_assigned=True)
    return {record_key(slug): record.to_json()}


def handbook_sale(sale_id: str = SALE_ID, product_id: str = "32-nPAicqbLj8B_WswVlMw==") -> PurchaseState:
    return PurchaseState(purchase_id=sale_id, sale_id=sale_id, product_id=product_id, purchased_at=SALE_TIME)


def membership() -> PurchaseState:
    return PurchaseState(
        purchase_id=SUBSCRIPTION_ID,
        sale_id=MEMBERSHIP_SALE_ID,
        subscription_id=SUBSCRIPTION_ID,
        product_id="8RhOl0SwGgLXJ0CXvRMUrQ==",
        purchased_at=SALE_TIME,
    )


def subscription_body(resource: str, **fields: str | None) -> str:
    """The recorded subscription payload turned into another subscription event."""
    base: dict[str, str | None] = {
        "resource_name": resource,
        "cancelled": None,
        "cancelled_at": None,
        "cancelled_by_buyer": None,
    }
    base.update(fields)
    return form_body("cancellation", **base)


# --- decisions (pure) --------------------------------------------------------------------------


def test_plan_assigns_then_saves_when_a_purchase_first_grants_access() -> None:
    before = CourseRecord(slug="c", role_id="r")
    plan = plan_change(before, before.with_purchase(handbook_sale()), role_held=before.role_assigned)
    assert plan.role_change == "assign"
    assert plan.save_record
    assert plan.record.role_assigned is True


def test_plan_does_nothing_when_the_event_was_already_applied() -> None:
    before = CourseRecord(slug="c", role_id="r", purchases=(handbook_sale(),), role_assigned=True)
    plan = plan_change(before, before.with_purchase(handbook_sale()), role_held=True)
    assert plan.role_change is None
    assert not plan.save_record


def test_plan_removes_the_role_when_its_state_is_unknown_and_nothing_grants_access() -> None:
    before = CourseRecord(slug="c", role_id="r")
    refunded = PurchaseState(purchase_id=SALE_ID, sale_id=SALE_ID, refunded=True)
    plan = plan_change(before, before.with_purchase(refunded), role_held=None)
    assert plan.role_change == "remove"
    assert plan.record.role_assigned is False


# --- sales ---------------------------------------------------------------------------------------


def test_a_new_buyer_is_created_with_the_course_role_in_three_management_calls(tenant: Tenant) -> None:
    record = CourseRecord(slug="serverless-handbook", role_id=SERVERLESS_ROLE).with_purchase(handbook_sale())
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply(
        "POST",
        "/users",
        status=201,
        body=created_user(email="customer@example.com", app_metadata={HANDBOOK_KEY: record.with_role(True).to_json()}),
    )
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    outcome = handle(recorded_body("sale"))

    assert outcome.status == PROCESSED
    assert outcome.course == "serverless-handbook"
    assert outcome.changes == ("user_created", "role_assigned", "onboarding_sent")
    tenant.replay.assert_finished()
    assert len(tenant.replay.requests) == 3
    lookup = parse_qs(tenant.replay.requests[0].url.query.decode())
    assert lookup["email"] == ["customer@example.com"]
    assert "identities" in lookup["fields"][0]
    assert "app_metadata" in lookup["fields"][0]
    created = tenant.replay.body_of(1)
    assert created["connection"] == "Username-Password-Authentication"
    assert created["email"] == "customer@example.com"
    assert created["email_verified"] is False
    assert created["verify_email"] is False
    assert len(created["password"]) >= 32
    saved = created["app_metadata"][HANDBOOK_KEY]
    assert saved["role_id"] == SERVERLESS_ROLE
    assert saved["purchases"] == [
        {
            "id": SALE_ID,
            "status": "active",
            "sale_id": SALE_ID,
            "product_id": "32-nPAicqbLj8B_WswVlMw==",
            "purchased_at": "2021-01-05T19:38:56Z",
        }
    ]
    assert tenant.replay.body_of(2) == {"roles": [SERVERLESS_ROLE]}
    assert tenant.token_endpoint.call_count == 1
    assert tenant.change_password.call_count == 1
    sent = json.loads(tenant.change_password.calls[0].request.body or b"{}")
    assert sent["email"] == "customer@example.com"
    assert sent["connection"] == "Username-Password-Authentication"


def test_the_buyer_address_is_trimmed_and_lower_cased_before_the_lookup(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))

    handle(form_body("sale", email="  Customer@Example.COM "))

    assert parse_qs(tenant.replay.requests[0].url.query.decode())["email"] == ["customer@example.com"]


def test_a_returning_buyer_gets_the_role_first_and_the_record_last_in_three_calls(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata={"plan": "kept"}))
    tenant.replay.reply("POST", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))

    outcome = handle(recorded_body("sale"))

    assert outcome.status == PROCESSED
    assert outcome.changes == ("role_assigned", "record_saved")
    assert [request.method for request in tenant.replay.requests] == ["GET", "POST", "PATCH"]
    patch = tenant.replay.body_of(2)
    assert list(patch) == ["app_metadata"]
    assert list(patch["app_metadata"]) == [HANDBOOK_KEY], "only this course's key: other keys stay untouched"
    assert patch["app_metadata"][HANDBOOK_KEY]["role_assigned"] is True
    assert tenant.change_password.call_count == 0, "only new buyers get the onboarding e-mail"


@pytest.mark.parametrize(
    "redelivery",
    [
        pytest.param(recorded_body("sale"), id="resend-ping"),
        pytest.param(
            form_body(
                "sale", **{"url_params[campaignid]": None, "url_params[userid]": None, "url_params[version]": None}
            ),
            id="without-url-params",
        ),
    ],
)
def test_a_redelivered_sale_costs_one_lookup_and_writes_nothing(tenant: Tenant, redelivery: str) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))

    outcome = handle(redelivery)

    assert outcome.status == ALREADY_DONE
    assert len(tenant.replay.requests) == 1
    assert tenant.replay.writes == []


def test_a_gumroad_retry_re_reads_the_role_and_writes_nothing_when_it_is_there(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))
    tenant.replay.reply("GET", ROLES_PATH, body=fixture("user_roles.json"))

    outcome = handle(recorded_body("sale") + "&retry_count=1")

    assert outcome.status == ALREADY_DONE
    assert outcome.changes == ("role_verified",)
    assert tenant.replay.writes == []


def test_a_gumroad_retry_repairs_a_role_an_interrupted_attempt_never_assigned(tenant: Tenant) -> None:
    # The attempt before created the buyer with its record, then stopped before the role.
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))
    tenant.replay.reply("GET", ROLES_PATH, body=fixture("user_roles_empty.json"))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    outcome = handle(recorded_body("sale") + "&retry_count=2")

    assert outcome.status == PROCESSED
    assert outcome.changes == ("role_verified", "role_assigned")
    tenant.replay.assert_finished()


def test_a_renewal_of_a_known_membership_costs_one_lookup(tenant: Tenant) -> None:
    tenant.replay.reply(
        "GET",
        "/users-by-email",
        body=found_user(
            email="calvin@example.com",
            app_metadata=active_record(membership(), slug="pro-membership", role=MEMBERSHIP_ROLE),
        ),
    )

    renewal = form_body("sale_with_variants", sale_id="Q1n8y2n0R3u4aBbCcDdEeA==", is_recurring_charge="true")
    outcome = handle(renewal)

    assert outcome.status == ALREADY_DONE
    assert len(tenant.replay.requests) == 1


def test_a_gift_gives_access_to_the_giftee(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=201, body=created_user(email="giftee@example.com", app_metadata={}))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    gift = form_body(
        "sale",
        email="giftee@example.com",
        is_gift_receiver_purchase="true",
        price="0",
        gift_price="500",
        gifter_email="gifter@example.com",
    )
    outcome = handle(gift)

    assert outcome.status == PROCESSED
    assert parse_qs(tenant.replay.requests[0].url.query.decode())["email"] == ["giftee@example.com"]
    assert tenant.replay.body_of(1)["email"] == "giftee@example.com"


def test_a_social_login_with_the_same_address_is_not_the_buyer(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=fixture("users_by_email_social_only.json"))
    tenant.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    assert handle(recorded_body("sale")).changes[0] == "user_created"


def test_a_buyer_created_concurrently_is_found_again_and_granted(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=409, body=fixture("error_409_user_exists.json"))
    tenant.replay.reply("GET", "/users-by-email", body=found_user())
    tenant.replay.reply("POST", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))

    outcome = handle(recorded_body("sale"))

    assert outcome.status == PROCESSED
    tenant.replay.assert_finished()
    assert [r.method for r in tenant.replay.requests].count("POST") == 2, "the 409 was not retried blindly"


# --- refunds and disputes ------------------------------------------------------------------------


def test_a_full_refund_removes_the_role_and_records_the_refund(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))
    tenant.replay.reply("DELETE", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))

    outcome = handle(recorded_body("refund"))

    assert outcome.status == PROCESSED
    assert outcome.changes == ("role_removed", "record_saved")
    assert tenant.replay.body_of(1) == {"roles": [SERVERLESS_ROLE]}
    saved = tenant.replay.body_of(2)["app_metadata"][HANDBOOK_KEY]
    assert saved["role_assigned"] is False
    assert saved["purchases"][0]["status"] == "refunded"


def test_a_refund_keeps_the_role_when_another_purchase_grants_the_same_course(tenant: Tenant) -> None:
    other = handbook_sale("l9Yx3lP7WJQ3a0bpJg7xCA==", product_id="vG8hPbGGf7_I4S4mpSFMsw==")
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale(), other)))
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))

    outcome = handle(recorded_body("refund"))

    assert outcome.changes == ("record_saved",)
    assert all(request.method != "DELETE" for request in tenant.replay.requests)
    statuses = [p["status"] for p in tenant.replay.body_of(1)["app_metadata"][HANDBOOK_KEY]["purchases"]]
    assert statuses == ["refunded", "active"]


def test_a_partial_refund_changes_nothing_and_calls_nobody(tenant: Tenant) -> None:
    outcome = handle(form_body("refund", refunded="false"))

    assert (outcome.status, outcome.reason) == (IGNORED, "partial_refund")
    assert tenant.replay.requests == []


def test_a_dispute_revokes_and_a_won_dispute_grants_again(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))
    tenant.replay.reply("DELETE", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))
    disputed = handle(form_body("sale", resource_name="dispute", disputed="true"))
    after_dispute = tenant.replay.body_of(2)["app_metadata"]
    assert disputed.changes == ("role_removed", "record_saved")
    assert after_dispute[HANDBOOK_KEY]["purchases"][0]["status"] == "disputed"

    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=after_dispute))
    tenant.replay.reply("POST", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))
    won = handle(form_body("sale", resource_name="dispute_won", disputed="true", dispute_won="true"))

    assert won.changes == ("role_assigned", "record_saved")
    assert tenant.replay.body_of(5)["app_metadata"][HANDBOOK_KEY]["purchases"][0]["status"] == "active"


def test_a_refund_that_overtakes_its_sale_asks_for_a_retry_when_the_buyer_is_unknown(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=[])

    with pytest.raises(PurchaseNotYetKnown):
        handle(recorded_body("refund"))
    assert tenant.replay.writes == []


def test_a_refund_recorded_before_its_sale_makes_the_late_sale_grant_nothing(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user())
    tenant.replay.reply("DELETE", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))
    handle(recorded_body("refund"))
    after_refund = tenant.replay.body_of(2)["app_metadata"]

    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=after_refund))
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))
    late_sale = handle(recorded_body("sale"))

    # The record learns that the purchase was sold (see chalicelib.purchases.records: confirmed); no role.
    assert (late_sale.status, late_sale.changes) == (PROCESSED, ("record_saved",))
    assert [r.method for r in tenant.replay.requests[3:]] == ["GET", "PATCH"], "no role is assigned for a refunded sale"


# --- subscriptions -------------------------------------------------------------------------------


def test_subscription_ended_revokes_and_subscription_restarted_grants_again(tenant: Tenant) -> None:
    start = active_record(membership(), slug="pro-membership", role=MEMBERSHIP_ROLE)
    tenant.replay.reply("GET", "/users-by-email", body=found_user(email="calvin@example.com", app_metadata=start))
    tenant.replay.reply("DELETE", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))
    ended = handle(subscription_body("subscription_ended", ended_at="2021-03-05T19:38:56Z", ended_reason="cancelled"))
    after_end = tenant.replay.body_of(2)["app_metadata"]

    assert ended.changes == ("role_removed", "record_saved")
    assert tenant.replay.body_of(1) == {"roles": [MEMBERSHIP_ROLE]}
    assert after_end[MEMBERSHIP_KEY]["purchases"][0]["status"] == "ended"

    tenant.replay.reply("GET", "/users-by-email", body=found_user(email="calvin@example.com", app_metadata=after_end))
    tenant.replay.reply("POST", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))
    restarted = handle(subscription_body("subscription_restarted", restarted_at="2021-04-01T08:00:00Z"))

    assert restarted.changes == ("role_assigned", "record_saved")
    assert tenant.replay.body_of(5)["app_metadata"][MEMBERSHIP_KEY]["purchases"][0]["status"] == "active"


def test_subscription_events_look_up_the_subscriber_address_lower_cased(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=[])

    outcome = handle(
        subscription_body("subscription_ended", user_email="Calvin@Example.com", ended_at="2021-03-05T19:38:56Z")
    )

    assert (outcome.status, outcome.reason) == (IGNORED, "unknown_buyer")
    assert parse_qs(tenant.replay.requests[0].url.query.decode())["email"] == ["calvin@example.com"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(recorded_body("cancellation"), id="cancellation"),
        pytest.param(
            subscription_body("subscription_updated", type="upgrade", effective_as_of="2021-02-05T19:38:56Z"),
            id="subscription_updated",
        ),
    ],
)
def test_a_cancellation_or_a_plan_change_leaves_access_alone(tenant: Tenant, body: str) -> None:
    outcome = handle(body)

    assert (outcome.status, outcome.reason) == (IGNORED, "no_access_change")
    assert tenant.replay.requests == []


# --- what is never provisioned -------------------------------------------------------------------


def test_the_settings_page_test_ping_provisions_nothing(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUMROAD_PROVISION_TEST_PURCHASES", "true")
    wiring.clear_caches()

    outcome = handle(recorded_body("test_ping"))

    assert (outcome.status, outcome.reason) == (IGNORED, "test_ping")
    assert tenant.replay.requests == []


def test_a_sellers_own_purchase_provisions_nothing_by_default(tenant: Tenant) -> None:
    outcome = handle(form_body("sale", test="true"))

    assert (outcome.status, outcome.reason) == (IGNORED, "test_purchase")
    assert tenant.replay.requests == []


def test_a_sellers_own_purchase_provisions_when_allowed(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUMROAD_PROVISION_TEST_PURCHASES", "true")
    wiring.clear_caches()
    wiring.use_auth0_transport(tenant.replay.transport)
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    assert handle(form_body("sale", test="true")).status == PROCESSED


def test_a_product_in_no_course_is_ignored_without_calling_auth0(tenant: Tenant) -> None:
    outcome = handle(
        form_body(
            "sale",
            product_id="unknownProduct0000000==",
            permalink="other",
            short_product_id="ZZZ",
            product_permalink="https://sahil.gumroad.com/l/other",
        )
    )

    assert (outcome.status, outcome.reason) == (IGNORED, "unknown_product")
    assert tenant.replay.requests == []


def test_a_custom_field_named_email_never_decides_who_gets_access(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    shadowed = form_body(
        "sale_with_variants", email="attacker@example.com", **{"custom_fields[email]": "attacker@example.com"}
    )

    with caplog.at_level(logging.WARNING, logger="gumroad_auth0"):
        outcome = handle(shadowed)

    assert (outcome.status, outcome.reason) == (IGNORED, "custom_field_shadows_email")
    assert tenant.replay.requests == []
    assert '"event":"sale_needs_review"' in caplog.text


def test_an_unhandled_event_type_is_ignored(tenant: Tenant) -> None:
    outcome = handle(form_body("sale", resource_name="something_new"))

    assert (outcome.status, outcome.reason) == (IGNORED, "unhandled_event")
    assert tenant.replay.requests == []


# --- onboarding ----------------------------------------------------------------------------------


def test_a_failed_onboarding_email_does_not_undo_the_purchase(tenant: Tenant) -> None:
    tenant.change_password.status = 500
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    outcome = handle(recorded_body("sale"))

    assert outcome.status == PROCESSED
    assert outcome.changes == ("user_created", "role_assigned", "onboarding_failed")


def test_verification_email_onboarding_asks_auth0_to_send_it_at_creation(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUYER_ONBOARDING", "verification_email")
    wiring.use_auth0_transport(tenant.replay.transport)
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    outcome = handle(recorded_body("sale"))

    assert tenant.replay.body_of(1)["verify_email"] is True
    assert tenant.change_password.call_count == 0
    assert outcome.changes == ("user_created", "role_assigned")


def test_the_generated_password_never_reaches_the_logs(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    with caplog.at_level(logging.DEBUG):
        handle(recorded_body("sale"))

    password = tenant.replay.body_of(1)["password"]
    assert password not in caplog.text


# --- Auth0 failures ------------------------------------------------------------------------------


def test_a_rate_limited_request_waits_for_the_reset_and_succeeds(tenant: Tenant) -> None:
    tenant.replay.reply(
        "GET",
        "/users-by-email",
        status=429,
        body=fixture("error_429_too_many_requests.json"),
        headers={"retry-after": "1", "x-ratelimit-remaining": "0"},
    )
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))

    outcome = handle(recorded_body("sale"))

    assert outcome.status == ALREADY_DONE
    assert tenant.sleeps
    assert tenant.sleeps[0] == pytest.approx(1.0)
    assert len(tenant.replay.requests) == 2


def test_a_rate_limit_reset_beyond_the_deadline_answers_retry_later_without_waiting(tenant: Tenant) -> None:
    tenant.replay.reply(
        "GET",
        "/users-by-email",
        status=429,
        body=fixture("error_429_too_many_requests.json"),
        headers={"retry-after": "30"},
    )

    with pytest.raises(UpstreamUnavailable):
        handle(recorded_body("sale"))
    assert tenant.sleeps == []
    assert len(tenant.replay.requests) == 1


def test_server_errors_and_timeouts_are_retried_within_the_deadline(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", status=500, body=fixture("error_500_internal.json"))
    tenant.replay.reply("GET", "/users-by-email", raises=httpx.ReadTimeout("timed out"))
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))

    assert handle(recorded_body("sale")).status == ALREADY_DONE
    assert tenant.sleeps == [0.1, 0.3]


def test_persistent_server_errors_end_in_retry_later_after_the_attempt_budget(tenant: Tenant) -> None:
    for _ in range(4):
        tenant.replay.reply("GET", "/users-by-email", status=503, body=fixture("error_500_internal.json"))

    with pytest.raises(UpstreamUnavailable):
        handle(recorded_body("sale"))
    assert len(tenant.replay.requests) == 4, "the SDK's own retries are off: one request per attempt"


def test_a_rejected_management_token_is_fetched_again_once(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", status=401, body=fixture("error_401_invalid_token.json"))
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))

    assert handle(recorded_body("sale")).status == ALREADY_DONE
    assert tenant.token_endpoint.call_count == 2


def test_the_management_token_is_fetched_once_for_many_pings(tenant: Tenant) -> None:
    for _ in range(3):
        tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))
        handle(recorded_body("sale"))

    assert tenant.token_endpoint.call_count == 1


def test_a_role_missing_from_auth0_is_reported_as_a_catalogue_problem(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user())
    tenant.replay.reply("POST", ROLES_PATH, status=404, body=fixture("error_404_role.json"))

    with pytest.raises(UpstreamRejected, match=SERVERLESS_ROLE):
        handle(recorded_body("sale"))
    assert len(tenant.replay.requests) == 2, "a permanent refusal is not retried"


def test_a_missing_scope_is_reported_without_retrying(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user())
    tenant.replay.reply("POST", ROLES_PATH, status=403, body=fixture("error_403_insufficient_scope.json"))

    with pytest.raises(UpstreamRejected, match="scope"):
        handle(recorded_body("sale"))
    assert tenant.replay.writes[-1].url.path.endswith("/roles")
    assert len(tenant.replay.requests) == 2


def test_auth0_sees_the_configured_tenant(tenant: Tenant) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))

    handle(recorded_body("sale"))

    request = tenant.replay.requests[0]
    assert str(request.url).startswith(f"{BASE_URL}/api/v2/users-by-email")
    assert request.headers["authorization"] == "Bearer fixture-m2m-access-token-not-a-real-credential"


def test_a_failed_role_assignment_for_a_new_buyer_corrects_the_record_so_any_redelivery_assigns_it(
    tenant: Tenant,
) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=201, body=created_user(email="customer@example.com", app_metadata={}))
    tenant.replay.reply("POST", ROLES_PATH, status=404, body=fixture("error_404_role.json"))
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))

    with pytest.raises(UpstreamRejected):
        handle(recorded_body("sale"))

    corrected = tenant.replay.body_of(3)["app_metadata"][HANDBOOK_KEY]
    assert corrected["role_assigned"] is False
    assert corrected["purchases"][0]["status"] == "active"

    tenant.replay.reply(
        "GET", "/users-by-email", body=found_user(app_metadata=tenant.replay.body_of(3)["app_metadata"])
    )
    tenant.replay.reply("POST", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))
    assert handle(recorded_body("sale")).changes == ("role_assigned", "record_saved"), "a plain resend repairs it"


# --- permanent refusals are never retried; a concurrent creation re-reads the role ----------------


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (
            400,
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "Payload validation error",
                "errorCode": "invalid_body",
            },
        ),
        (409, {"statusCode": 409, "error": "Conflict", "message": "Conflict", "errorCode": "conflict"}),
    ],
    ids=["400", "409"],
)
def test_a_role_assignment_refused_for_good_is_not_retried(tenant: Tenant, status: int, answer: dict[str, Any]) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user())
    tenant.replay.reply("POST", ROLES_PATH, status=status, body=answer)

    with pytest.raises(UpstreamRejected):
        handle(recorded_body("sale"))
    tenant.replay.assert_finished()
    assert len(tenant.replay.requests) == 2, "one lookup and one refused write: no retry"


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (
            400,
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "Payload validation error",
                "errorCode": "invalid_body",
            },
        ),
        (409, {"statusCode": 409, "error": "Conflict", "message": "Conflict", "errorCode": "conflict"}),
    ],
    ids=["400", "409"],
)
def test_a_record_write_refused_for_good_is_not_retried(tenant: Tenant, status: int, answer: dict[str, Any]) -> None:
    tenant.replay.reply("GET", "/users-by-email", body=found_user())
    tenant.replay.reply("POST", ROLES_PATH, status=204)
    tenant.replay.reply("PATCH", USER_PATH, status=status, body=answer)

    with pytest.raises(UpstreamRejected):
        handle(recorded_body("sale"))
    tenant.replay.assert_finished()
    assert len(tenant.replay.requests) == 3, "lookup, role, one refused record write: no retry"


def test_a_buyer_created_concurrently_with_a_record_has_the_role_read_back_before_it_is_trusted(
    tenant: Tenant,
) -> None:
    # The other delivery created the buyer with the record already saying "assigned", and may have
    # stopped before assigning the role: the record alone must not be believed.
    tenant.replay.reply("GET", "/users-by-email", body=[])
    tenant.replay.reply("POST", "/users", status=409, body=fixture("error_409_user_exists.json"))
    tenant.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=active_record(handbook_sale())))
    tenant.replay.reply("GET", ROLES_PATH, body=fixture("user_roles_empty.json"))
    tenant.replay.reply("POST", ROLES_PATH, status=204)

    outcome = handle(recorded_body("sale"))

    assert outcome.status == PROCESSED
    assert outcome.changes == ("role_verified", "role_assigned")
    tenant.replay.assert_finished()
