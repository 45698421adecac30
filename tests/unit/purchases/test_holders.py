"""Who may hold a buyer's purchases among the users of one address, and which one holds them (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.purchases.holders import HOLDER_KEY, TrustPolicy, holder_marker, record_keys
from chalicelib.purchases.ports import Buyer

DATABASE = "Username-Password-Authentication"
POLICY = TrustPolicy(database_connection=DATABASE, trusted_connections=frozenset({DATABASE, "email", "google-oauth2"}))
RECORD = {"v": 1, "course": "serverless-handbook", "role_id": "rol_x", "role_assigned": True, "purchases": []}


def user(
    user_id: str,
    *,
    connection: str,
    verified: bool,
    created_at: str = "2026-01-01T00:00:00+00:00",
    app_metadata: dict[str, Any] | None = None,
) -> Buyer:
    return Buyer(
        user_id=user_id,
        app_metadata=app_metadata or {},
        connection=connection,
        email="alice@example.com",
        email_verified=verified,
        created_at=created_at,
    )


SERVICE_MADE = user(
    "auth0|1", connection=DATABASE, verified=False, app_metadata={HOLDER_KEY: holder_marker(created_by_service=True)}
)
GOOGLE = user("google-oauth2|2", connection="google-oauth2", verified=True)
GOOGLE_UNVERIFIED = user("google-oauth2|3", connection="google-oauth2", verified=False)
CODE = user("email|4", connection="email", verified=True)
SELF_REGISTERED = user("auth0|5", connection=DATABASE, verified=False)


@pytest.mark.parametrize(
    ("candidate", "eligible", "why_not"),
    [
        (SERVICE_MADE, True, None),  # nobody signs in as it before proving the mailbox
        (GOOGLE, True, None),
        (CODE, True, None),
        (GOOGLE_UNVERIFIED, False, "email_not_verified"),
        (SELF_REGISTERED, False, "email_not_verified"),  # a password someone chose, for an address not proved
        (user("auth0|6", connection=DATABASE, verified=True), True, None),
        (user("github|7", connection="github", verified=True), False, "connection_not_trusted"),
    ],
)
def test_only_the_services_own_users_and_verified_addresses_of_trusted_connections_may_hold_purchases(
    candidate: Buyer, eligible: bool, why_not: str | None
) -> None:
    assert POLICY.eligible(candidate) is eligible
    assert POLICY.why_not(candidate) == why_not


def test_a_marker_on_a_user_of_another_connection_does_not_make_it_the_services() -> None:
    # Only the service writes app_metadata; still, the mark counts on the service's database connection only.
    marked_google = user(
        "google-oauth2|8",
        connection="google-oauth2",
        verified=False,
        app_metadata={HOLDER_KEY: holder_marker(created_by_service=True)},
    )
    assert not POLICY.eligible(marked_google)


def test_the_holder_is_the_user_with_this_courses_record_then_any_record_then_the_services_then_the_oldest() -> None:
    older_code = user("email|9", connection="email", verified=True, created_at="2025-01-01T00:00:00+00:00")
    with_record = user(
        "google-oauth2|10", connection="google-oauth2", verified=True, app_metadata={"gumroad_other": RECORD}
    )
    with_course = user(
        "email|11", connection="email", verified=True, app_metadata={"gumroad_serverless-handbook": RECORD}
    )

    assert POLICY.holder([older_code, GOOGLE, SERVICE_MADE], course_slug="serverless-handbook") is SERVICE_MADE
    assert POLICY.holder([GOOGLE, older_code], course_slug="serverless-handbook") is older_code
    assert POLICY.holder([SERVICE_MADE, with_record], course_slug="serverless-handbook") is with_record
    assert POLICY.holder([with_record, with_course], course_slug="serverless-handbook") is with_course


def test_users_that_may_not_hold_purchases_are_never_the_holder() -> None:
    assert POLICY.holder([GOOGLE_UNVERIFIED, SELF_REGISTERED], course_slug="serverless-handbook") is None
    assert POLICY.holder([GOOGLE_UNVERIFIED, GOOGLE], course_slug="serverless-handbook") is GOOGLE


def test_with_no_eligible_user_a_database_user_blocks_the_address_and_a_google_one_does_not() -> None:
    assert POLICY.blocker([GOOGLE_UNVERIFIED], course_slug="serverless-handbook") is None
    assert POLICY.blocker([GOOGLE_UNVERIFIED, SELF_REGISTERED], course_slug="serverless-handbook") is SELF_REGISTERED
    held = user("google-oauth2|12", connection="google-oauth2", verified=False, app_metadata={"gumroad_x": RECORD})
    assert POLICY.blocker([SELF_REGISTERED, held], course_slug="serverless-handbook") is held


def test_record_keys_are_the_gumroad_records_and_not_the_holders_mark() -> None:
    metadata = {"gumroad_serverless-handbook": RECORD, HOLDER_KEY: holder_marker(created_by_service=True), "plan": 1}
    assert record_keys(user("auth0|13", connection=DATABASE, verified=True, app_metadata=metadata)) == [
        "gumroad_serverless-handbook"
    ]
