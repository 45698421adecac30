"""Whole journeys: the real app, the Auth0 sandbox, real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.http.faults import parse_fault
from sandbox.server import SandboxServer
from sandbox.tenant.seeding import seed_user
from tests.integration.conftest import Service
from tests.integration.harness import (
    GUMROAD_RETRY_STATUSES,
    HANDBOOK,
    MEMBERSHIP,
    chalice_local,
    gumroad_body,
    new_sale_id,
)

SUBSCRIPTION_ID = "GazW4_NBcQy-o7Gjjng7lw=="


def management_requests(sandbox: SandboxServer) -> int:
    return int(sandbox.stats.snapshot()["management_requests"])


def test_purchase_gives_access_and_refund_takes_it_away(service: Service) -> None:
    buyer = "journey-refund@example.com"
    sale_id = new_sale_id()

    sold = service.deliver(gumroad_body("sale", email=buyer, sale_id=sale_id))

    assert sold.statuses == [200]
    assert sold.bodies[0]["changes"] == ["user_created", "role_assigned", "onboarding_sent"]
    assert management_requests(service.sandbox) <= 3, "a new buyer costs at most three Management API requests"
    assert service.courses_of(buyer) == [HANDBOOK]
    token_before_refund = service.sandbox.user_token(buyer)

    refunded = service.deliver(gumroad_body("refund", email=buyer, sale_id=sale_id))

    assert refunded.statuses == [200]
    assert service.courses_of(buyer) == []
    denied = service.get(f"/courses/{HANDBOOK}", service.sandbox.user_token(buyer))
    assert denied.status_code == 403
    assert json.loads(denied.body)["error"] == "insufficient_scope"
    # Access tokens are self-contained: one issued before the refund still carries the permission.
    assert service.get(f"/courses/{HANDBOOK}", token_before_refund).status_code == 200


def test_a_redelivered_sale_changes_nothing_and_costs_one_lookup(service: Service) -> None:
    body = gumroad_body("sale", email="journey-twice@example.com", sale_id=new_sale_id())
    service.deliver(body)
    before = management_requests(service.sandbox)

    again = service.deliver(body)

    assert again.bodies[0]["status"] == "already_done"
    assert management_requests(service.sandbox) - before == 1
    assert len(service.users_with("journey-twice@example.com")) == 1


def test_two_purchases_of_one_course_survive_one_refund(service: Service) -> None:
    buyer = "journey-two@example.com"
    first, second = new_sale_id(), new_sale_id()
    service.deliver(gumroad_body("sale", email=buyer, sale_id=first))
    service.deliver(gumroad_body("sale", email=buyer, sale_id=second))

    service.deliver(gumroad_body("refund", email=buyer, sale_id=first))

    assert service.courses_of(buyer) == [HANDBOOK], "the second purchase still grants the course"
    service.deliver(gumroad_body("refund", email=buyer, sale_id=second))
    assert service.courses_of(buyer) == []
    record = service.users_with(buyer)[0]["app_metadata"][f"gumroad_{HANDBOOK}"]
    assert sorted(p["status"] for p in record["purchases"]) == ["refunded", "refunded"]


def test_a_membership_ends_and_restarts(service: Service) -> None:
    buyer = "calvin@example.com"
    service.deliver(gumroad_body("sale_with_variants", email=buyer))
    assert service.courses_of(buyer) == [MEMBERSHIP]

    ended = gumroad_body(
        "cancellation",
        resource_name="subscription_ended",
        cancelled=None,
        cancelled_at=None,
        cancelled_by_buyer=None,
        ended_at="2021-03-05T19:38:56Z",
        ended_reason="cancelled",
    )
    assert service.deliver(ended).statuses == [200]
    assert service.courses_of(buyer) == []

    restarted = gumroad_body(
        "cancellation",
        resource_name="subscription_restarted",
        cancelled=None,
        cancelled_at=None,
        cancelled_by_buyer=None,
        restarted_at="2021-04-01T08:00:00Z",
    )
    assert service.deliver(restarted).statuses == [200]
    assert service.courses_of(buyer) == [MEMBERSHIP]


def test_a_cancellation_keeps_access_until_the_subscription_ends(service: Service) -> None:
    buyer = "calvin@example.com"
    service.deliver(gumroad_body("sale_with_variants", email=buyer))

    cancelled = service.deliver(gumroad_body("cancellation"))

    assert cancelled.bodies[0] == {
        "status": "ignored",
        "event": "cancellation",
        "reason": "no_access_change",
        "course": MEMBERSHIP,
    }
    assert service.courses_of(buyer) == [MEMBERSHIP]


def test_a_tenant_failing_for_a_while_is_completed_by_gumroads_redelivery(service: Service) -> None:
    buyer = "journey-outage@example.com"
    service.sandbox.faults.add(parse_fault({"status": 500, "count": 6, "paths": "/api/v2/"}))

    delivery = service.deliver(gumroad_body("sale", email=buyer, sale_id=new_sale_id()))

    assert delivery.statuses[0] == 503
    assert all(status in GUMROAD_RETRY_STATUSES for status in delivery.statuses[:-1])
    assert delivery.final == 200
    assert service.courses_of(buyer) == [HANDBOOK]
    assert len(service.users_with(buyer)) == 1


def test_an_outage_between_create_and_role_is_repaired_by_the_retry(service: Service) -> None:
    buyer = "journey-half-done@example.com"
    # The user is created, then every role assignment fails until the attempt gives up.
    service.sandbox.faults.add(parse_fault({"status": 503, "count": 4, "paths": "/api/v2/users/", "method": "POST"}))

    delivery = service.deliver(gumroad_body("sale", email=buyer, sale_id=new_sale_id()))

    assert delivery.statuses == [503, 200]
    assert delivery.bodies[1]["changes"] == ["role_assigned", "record_saved"], "the failed attempt corrected the record"
    assert service.courses_of(buyer) == [HANDBOOK]


def test_a_burst_against_a_rate_limited_tenant_ends_with_every_buyer_served(service: Service) -> None:
    service.sandbox.limiter.configure(2, 2)  # Auth0's free tier: 2 requests/s
    buyers = [f"burst-{index:02d}@example.com" for index in range(20)]

    deliveries = [service.deliver(gumroad_body("sale", email=buyer, sale_id=new_sale_id())) for buyer in buyers]

    assert [delivery.final for delivery in deliveries] == [200] * 20
    retried = [d for d in deliveries if len(d.statuses) > 1]
    for delivery in retried:
        assert {body["error"] for body in delivery.bodies[:-1]} <= {"upstream_unavailable"}, "503s only when retry-safe"
    for buyer in buyers:
        users = service.users_with(buyer)
        assert len(users) == 1, f"exactly one Auth0 user for {buyer}"
        assert f"read:course:{HANDBOOK}" in users[0]["permissions"]
    throttled = int(service.sandbox.stats.snapshot()["rate_limited"])
    print(f"\nburst of 20 at 2 req/s: {len(retried)} redelivered, {throttled} 429s received")


def test_login_gives_a_token_that_opens_private(service: Service) -> None:
    seed_user(
        service.sandbox.tenant,
        email="student@example.com",
        connection="Username-Password-Authentication",
        password="correct horse battery staple",
        role_ids=[],
        app_metadata=None,
    )

    response = service.client.http.post(
        "/login",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"username": "student@example.com", "password": "correct horse battery staple"}),
    )
    assert response.status_code == 200, response.body
    token = json.loads(response.body)["access_token"]

    private = service.get("/private", token)
    assert private.status_code == 200
    assert json.loads(private.body)["message"].startswith("Hello ")
    assert service.sandbox.tenant.describe()["logins"][-1]["forwarded_for"] == "127.0.0.1"

    wrong = service.client.http.post(
        "/login",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"username": "student@example.com", "password": "wrong password"}),
    )
    assert wrong.status_code == 401
    assert json.loads(wrong.body)["error"] == "invalid_credentials"


def test_chalice_local_serves_the_whole_journey_over_http(sandbox: SandboxServer, tmp_path: Path) -> None:
    buyer = "journey-chalice-local@example.com"
    sale_id = new_sale_id()
    with chalice_local(sandbox, tmp_path) as local:
        sold = local.ping(gumroad_body("sale", email=buyer, sale_id=sale_id))
        assert sold.status_code == 200, sold.text
        listed = local.get("/courses", sandbox.user_token(buyer))
        assert listed.json() == {"courses": [{"slug": HANDBOOK, "title": "Serverless Handbook"}]}

        # Concurrent pings for one buyer and two courses (a cart checkout) must not clobber each other.
        cart = [
            gumroad_body("sale", email="cart@example.com", sale_id=new_sale_id()),
            gumroad_body("sale_with_variants", email="cart@example.com", subscription_id=None),
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(local.ping, cart))
        for body, answer in zip(cart, answers, strict=True):
            if answer.status_code != 200:  # both raced to create the buyer: Gumroad redelivers
                assert answer.status_code in GUMROAD_RETRY_STATUSES
                assert local.ping(body).status_code == 200
        opened = local.get("/courses", sandbox.user_token("cart@example.com")).json()["courses"]
        assert sorted(course["slug"] for course in opened) == [MEMBERSHIP, HANDBOOK]

        refunded = local.ping(gumroad_body("refund", email=buyer, sale_id=sale_id))
        assert refunded.status_code == 200
        denied = local.get(f"/courses/{HANDBOOK}", sandbox.user_token(buyer))
        assert denied.status_code == 403
        assert denied.headers["WWW-Authenticate"].startswith('Bearer realm="')
