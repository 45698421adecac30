"""Auth0Directory alone, through the recorded Management API exchanges (tests/auth0_replay.py's httpx transport).

Time is a fake clock shared by the directory, its pacer and the deadline: a wait advances it instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import responses
from auth0.management import Auth0

from chalicelib.auth0_api.directory import Auth0Directory, response_hook
from chalicelib.auth0_api.management_token import ManagementToken
from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy
from chalicelib.config.purchase_settings import Auth0Endpoint
from chalicelib.deadlines import Deadline, upstream_scope
from chalicelib.errors import BuyerAlreadyExists, UpstreamRejected, UpstreamUnavailable
from chalicelib.purchases.ports import Buyer
from chalicelib.purchases.records import record_key
from tests.auth0_replay import (
    BASE_URL,
    CONNECTION,
    USER_ID,
    Auth0Replay,
    created_user,
    fixture,
    found_user,
    updated_user,
)
from tests.purchase_support import MEMBERSHIP_ROLE, SERVERLESS_ROLE, mock_token_endpoint
from tests.unit.auth0_api.test_management_token import Secrets

BUYER = "customer@example.com"
ROLES_PATH = f"/users/{USER_ID}/roles"
USER_PATH = f"/users/{USER_ID}"
BAD_REQUEST = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "Payload validation error",
    "errorCode": "invalid_body",
}


@dataclass
class FakeTime:
    """Wall and monotonic time at once; ``sleep`` advances it and remembers each wait."""

    now: float = 1_700_000_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@dataclass
class Rig:
    directory: Auth0Directory
    replay: Auth0Replay
    token_endpoint: responses.BaseResponse
    time: FakeTime

    def deadline(self, seconds: float = 4.0) -> Deadline:
        return Deadline.after(seconds, clock=self.time)


@pytest.fixture
def rig(auth0_replay: Auth0Replay) -> Iterator[Rig]:
    clock = FakeTime()
    policy = RetryPolicy()
    pacer = RateLimitPacer(wall_clock=clock, sleep=clock.sleep)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        token = ManagementToken(endpoint=Auth0Endpoint(BASE_URL), credentials=Secrets(), policy=policy, clock=clock)
        http = httpx.Client(transport=auth0_replay.transport, event_hooks={"response": [response_hook(pacer)]})
        client = Auth0(base_url=f"{BASE_URL}/api/v2", token=token, max_retries=0, httpx_client=http)
        directory = Auth0Directory(
            client=client,
            token=token,
            connection=CONNECTION,
            policy=policy,
            pacer=pacer,
            sleep=clock.sleep,
            wall_clock=clock,
        )
        yield Rig(directory, auth0_replay, mock_token_endpoint(mock), clock)


# --- what each call sends and understands --------------------------------------------------------


def test_find_buyer_returns_the_database_user_with_their_app_metadata(rig: Rig) -> None:
    metadata = {record_key("serverless-handbook"): {"role_id": SERVERLESS_ROLE, "purchases": []}}
    rig.replay.reply("GET", "/users-by-email", body=found_user(app_metadata=metadata))

    assert rig.directory.find_buyer(BUYER) == Buyer(
        user_id=USER_ID,
        app_metadata={**metadata, "purchase_holder": {"v": 1, "created_by_service": True}},
        connection=CONNECTION,
        email=BUYER,
        email_verified=False,
        created_at="2026-11-21T20:41:05.123000+00:00",
    )
    assert rig.replay.requests[0].url.params["email"] == BUYER


def test_find_buyer_ignores_a_user_of_another_connection_with_the_same_address(rig: Rig) -> None:
    rig.replay.reply("GET", "/users-by-email", body=fixture("users_by_email_social_only.json"))

    assert rig.directory.find_buyer(BUYER) is None


def test_find_buyer_picks_the_database_user_among_users_of_other_connections(rig: Rig) -> None:
    rig.replay.reply("GET", "/users-by-email", body=[*fixture("users_by_email_social_only.json"), *found_user()])

    buyer = rig.directory.find_buyer(BUYER)

    assert buyer is not None
    assert buyer.user_id == USER_ID


def test_find_buyer_is_none_when_auth0_knows_nobody(rig: Rig) -> None:
    rig.replay.reply("GET", "/users-by-email", body=[])

    assert rig.directory.find_buyer(BUYER) is None


def test_create_buyer_posts_an_unverified_database_user_with_a_random_password_and_the_record(rig: Rig) -> None:
    metadata = {record_key("serverless-handbook"): {"role_id": SERVERLESS_ROLE, "role_assigned": True}}
    rig.replay.reply("POST", "/users", status=201, body=created_user(email=BUYER, app_metadata=metadata))

    buyer = rig.directory.create_buyer(
        email=BUYER, name="Jane Buyer", app_metadata=metadata, send_verification_email=True
    )

    assert buyer == Buyer(user_id=USER_ID, app_metadata=metadata, connection=CONNECTION, email=BUYER)
    sent = rig.replay.body_of(0)
    assert (sent["connection"], sent["email"], sent["name"]) == (CONNECTION, BUYER, "Jane Buyer")
    assert (sent["email_verified"], sent["verify_email"]) == (False, True)
    assert sent["app_metadata"] == metadata
    assert len(sent["password"]) == 32


def test_create_buyer_sends_no_name_when_gumroad_has_none(rig: Rig) -> None:
    rig.replay.reply("POST", "/users", status=201, body=created_user(email=BUYER, app_metadata={}))

    rig.directory.create_buyer(email=BUYER, name=None, app_metadata={}, send_verification_email=False)

    assert "name" not in rig.replay.body_of(0)


def test_create_buyer_raises_fulfilments_buyer_already_exists_on_409_without_retrying(rig: Rig) -> None:
    rig.replay.reply("POST", "/users", status=409, body=fixture("error_409_user_exists.json"))

    with pytest.raises(BuyerAlreadyExists):
        rig.directory.create_buyer(email=BUYER, name=None, app_metadata={}, send_verification_email=False)
    assert len(rig.replay.requests) == 1


def test_assign_and_remove_role_send_the_role_id(rig: Rig) -> None:
    rig.replay.reply("POST", ROLES_PATH, status=204).reply("DELETE", ROLES_PATH, status=204)

    rig.directory.assign_role(USER_ID, SERVERLESS_ROLE)
    rig.directory.remove_role(USER_ID, SERVERLESS_ROLE)

    assert rig.replay.body_of(0) == {"roles": [SERVERLESS_ROLE]}
    assert rig.replay.body_of(1) == {"roles": [SERVERLESS_ROLE]}


@pytest.mark.parametrize(
    ("answer", "role", "held"),
    [
        ("user_roles.json", SERVERLESS_ROLE, True),
        ("user_roles.json", MEMBERSHIP_ROLE, False),
        ("user_roles_empty.json", SERVERLESS_ROLE, False),
    ],
)
def test_has_role_reads_the_users_roles(rig: Rig, answer: str, role: str, held: bool) -> None:
    rig.replay.reply("GET", ROLES_PATH, body=fixture(answer))

    assert rig.directory.has_role(USER_ID, role) is held


def test_save_record_patches_only_its_own_app_metadata_key(rig: Rig) -> None:
    document = {"role_id": SERVERLESS_ROLE, "role_assigned": True, "purchases": [{"id": "x", "status": "active"}]}
    rig.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))

    rig.directory.save_record(USER_ID, record_key("serverless-handbook"), document)

    assert rig.replay.body_of(0) == {"app_metadata": {record_key("serverless-handbook"): document}}


def test_every_request_carries_the_management_token_fetched_once(rig: Rig) -> None:
    rig.replay.reply("GET", "/users-by-email", body=[]).reply("GET", "/users-by-email", body=[])

    rig.directory.find_buyer(BUYER)
    rig.directory.find_buyer(BUYER)

    assert {r.headers["authorization"] for r in rig.replay.requests} == {
        "Bearer fixture-m2m-access-token-not-a-real-credential"
    }
    assert rig.token_endpoint.call_count == 1


# --- retries: transient failures within the deadline, permanent ones never ------------------------


def test_a_429_waits_as_long_as_retry_after_asks_then_succeeds(rig: Rig) -> None:
    rig.replay.reply(
        "GET",
        "/users-by-email",
        status=429,
        body=fixture("error_429_too_many_requests.json"),
        headers={"Retry-After": "2", "x-ratelimit-remaining": "0"},
    )
    rig.replay.reply("GET", "/users-by-email", body=[])

    with upstream_scope(rig.deadline(4.0)):
        assert rig.directory.find_buyer(BUYER) is None

    assert rig.time.slept == [2.0]


def test_a_429_asking_for_more_than_the_deadline_leaves_is_upstream_unavailable_without_waiting(rig: Rig) -> None:
    rig.replay.reply(
        "GET",
        "/users-by-email",
        status=429,
        body=fixture("error_429_too_many_requests.json"),
        headers={"Retry-After": "10", "x-ratelimit-remaining": "0"},
    )

    with upstream_scope(rig.deadline(4.0)), pytest.raises(UpstreamUnavailable, match="no time was left"):
        rig.directory.find_buyer(BUYER)

    assert rig.time.slept == []


def test_server_errors_and_transport_errors_are_retried_with_backoff(rig: Rig) -> None:
    rig.replay.reply("POST", ROLES_PATH, status=500, body=fixture("error_500_internal.json"))
    rig.replay.reply("POST", ROLES_PATH, raises=httpx.ConnectError("connection reset"))
    rig.replay.reply("POST", ROLES_PATH, raises=httpx.ReadTimeout("timed out"))
    rig.replay.reply("POST", ROLES_PATH, status=204)

    with upstream_scope(rig.deadline(4.0)):
        rig.directory.assign_role(USER_ID, SERVERLESS_ROLE)

    assert rig.time.slept == [0.1, 0.3, 0.9]


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ({"status": 503, "body": fixture("error_500_internal.json")}, "answered 503 to 'assign role' 4 times"),
        ({"raises": httpx.ConnectError("refused")}, "was unreachable for 'assign role' 4 times"),
        ({"raises": httpx.ReadTimeout("timed out")}, "timed out on 'assign role' 4 times"),
    ],
    ids=["503", "unreachable", "timeout"],
)
def test_persistent_transient_failures_end_in_upstream_unavailable_after_the_attempt_budget(
    rig: Rig, failure: dict[str, Any], message: str
) -> None:
    for _ in range(RetryPolicy().max_attempts):
        rig.replay.reply("POST", ROLES_PATH, **failure)

    with upstream_scope(rig.deadline(10.0)), pytest.raises(UpstreamUnavailable, match=message):
        rig.directory.assign_role(USER_ID, SERVERLESS_ROLE)


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (400, BAD_REQUEST, UpstreamRejected, r"refused 'assign role' \(400\)"),
        (403, fixture("error_403_insufficient_scope.json"), UpstreamRejected, "lacks a scope"),
        (404, fixture("error_404_role.json"), UpstreamRejected, f"role {SERVERLESS_ROLE} does not exist"),
    ],
    ids=["400", "403", "404-role"],
)
def test_a_permanent_refusal_is_raised_at_once_without_a_retry(
    rig: Rig, status: int, body: Any, error: type[Exception], message: str
) -> None:
    rig.replay.reply("POST", ROLES_PATH, status=status, body=body)

    with upstream_scope(rig.deadline()), pytest.raises(error, match=message):
        rig.directory.assign_role(USER_ID, SERVERLESS_ROLE)
    assert len(rig.replay.requests) == 1
    assert rig.time.slept == []


def test_a_user_gone_before_the_record_is_saved_is_upstream_unavailable_so_the_ping_is_retried(rig: Rig) -> None:
    gone = {
        "statusCode": 404,
        "error": "Not Found",
        "message": "The user does not exist.",
        "errorCode": "inexistent_user",
    }
    rig.replay.reply("PATCH", USER_PATH, status=404, body=gone)

    with pytest.raises(UpstreamUnavailable, match="no longer finds the user"):
        rig.directory.save_record(USER_ID, record_key("serverless-handbook"), {})
    assert len(rig.replay.requests) == 1


def test_a_401_fetches_a_new_token_once_and_retries_with_it(rig: Rig) -> None:
    rig.replay.reply("GET", "/users-by-email", status=401, body=fixture("error_401_invalid_token.json"))
    rig.replay.reply("GET", "/users-by-email", body=[])

    assert rig.directory.find_buyer(BUYER) is None

    assert rig.token_endpoint.call_count == 2


def test_a_second_401_is_upstream_rejected_after_one_refresh(rig: Rig) -> None:
    rig.replay.reply("GET", "/users-by-email", status=401, body=fixture("error_401_invalid_token.json"))
    rig.replay.reply("GET", "/users-by-email", status=401, body=fixture("error_401_invalid_token.json"))

    with pytest.raises(UpstreamRejected, match="rejected the Management API token"):
        rig.directory.find_buyer(BUYER)

    assert rig.token_endpoint.call_count == 2


# --- the users of one address, linking (sign-in methods) ----------------------------------------------


def test_find_users_reads_every_user_of_the_address_with_what_says_whether_it_may_hold_purchases(rig: Rig) -> None:
    rig.replay.reply("GET", "/users-by-email", body=fixture("users_by_email_linked.json"))

    holder, google = rig.directory.find_users("alice@example.com")

    assert holder == Buyer(
        user_id="auth0|6560a1f0c2e4b0a1b2c3d4e5",
        app_metadata={"purchase_holder": {"v": 1, "created_by_service": True}},
        connection=CONNECTION,
        email="alice@example.com",
        email_verified=False,
        created_at="2026-11-21T20:41:05.123000+00:00",
        linked=("email|65f0b2c1d3e4f5a6b7c8d9e0",),
    )
    assert (google.connection, google.email_verified, google.linked) == ("google-oauth2", False, ())
    assert (google.provider, google.local_id) == ("google-oauth2", "114122672322102083341")


def test_get_user_re_reads_one_user_and_answers_none_for_one_auth0_no_longer_has(rig: Rig) -> None:
    (_, google) = fixture("users_by_email_linked.json")
    rig.replay.reply("GET", f"/users/{google['user_id']}", body=google, query={"fields": "*", "include_fields": "true"})
    rig.replay.reply("GET", "/users/email|gone", status=404, body=fixture("error_404_user.json"), query=None)

    found = rig.directory.get_user(google["user_id"])

    assert found is not None
    assert found.user_id == google["user_id"]
    assert rig.directory.get_user("email|gone") is None


def test_link_posts_the_secondarys_provider_and_its_id_after_the_bar(rig: Rig) -> None:
    rig.replay.reply("POST", f"/users/{USER_ID}/identities", status=201, body=fixture("user_identities_linked.json"))
    secondary = Buyer(user_id="google-oauth2|108234567890123456789", app_metadata={}, connection="google-oauth2")

    rig.directory.link(USER_ID, secondary)

    assert rig.replay.body_of(0) == {"provider": "google-oauth2", "user_id": "108234567890123456789"}


def test_save_records_writes_several_keys_in_one_patch(rig: Rig) -> None:
    rig.replay.reply("PATCH", USER_PATH, body=updated_user(app_metadata={}))

    rig.directory.save_records(USER_ID, {record_key("serverless-handbook"): {"v": 1}, "purchase_holder": {"v": 1}})

    assert rig.replay.body_of(0) == {
        "app_metadata": {"gumroad_serverless-handbook": {"v": 1}, "purchase_holder": {"v": 1}}
    }
