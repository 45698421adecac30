"""Concurrent pings for one buyer, processed inline by `chalice local` (threaded) against the sandbox over HTTP.

Auth0 has no conditional write: two pings that read a buyer's record at the same moment and
write it back lose one another's purchase. Inline processing serialises each buyer's pings
inside the process; these tests send the pings from threads, as Gumroad does on a cart
checkout or when a refund races its sale.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sandbox.http.faults import parse_fault
from sandbox.server import SandboxServer
from tests.integration.harness import (
    GUMROAD_RETRY_STATUSES,
    HANDBOOK,
    MEMBERSHIP,
    ChaliceLocal,
    chalice_local,
    gumroad_body,
    new_sale_id,
)

# Gumroad's redeliveries come 60-600 s apart; compressed here.
REDELIVERY_PAUSE_SECONDS = 0.3


@pytest.fixture
def local(sandbox: SandboxServer, tmp_path: Path) -> Iterator[ChaliceLocal]:
    with chalice_local(sandbox, tmp_path) as server:
        # Warm: auth0-python loaded and the Management API token cached, so that the races below are
        # about one buyer's events, not about a cold start under the ping deadline.
        assert deliver(server, gumroad_body("sale", email="warm-up@example.com", sale_id=new_sale_id())) == [200]
        yield server


def deliver(local: ChaliceLocal, body: str, *, attempts: int = 4) -> list[int]:
    """Deliver like Gumroad: redeliver on 499/500/502/503/504 with ``retry_count``; every status seen."""
    statuses: list[int] = []
    for attempt in range(attempts):
        statuses.append(local.ping(body if attempt == 0 else f"{body}&retry_count={attempt}").status_code)
        if statuses[-1] not in GUMROAD_RETRY_STATUSES:
            break
        time.sleep(REDELIVERY_PAUSE_SECONDS)
    return statuses


def all_at_once(local: ChaliceLocal, bodies: list[str]) -> list[list[int]]:
    """Deliver every body at the same moment, each from its own thread."""
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(functools.partial(deliver, local), bodies))


def the_user(sandbox: SandboxServer, email: str) -> dict[str, Any]:
    users: list[dict[str, Any]] = [user for user in sandbox.tenant.describe()["users"] if user["email"] == email]
    assert len(users) == 1, f"exactly one Auth0 user for {email}"
    return users[0]


def purchases(user: dict[str, Any], course: str) -> dict[str, str]:
    """The course record's purchases: sale id -> status."""
    record = user["app_metadata"].get(f"gumroad_{course}", {"purchases": []})
    return {purchase["sale_id"]: purchase["status"] for purchase in record["purchases"]}


def roles(user: dict[str, Any]) -> set[str]:
    return {role["name"] for role in user["roles"]}


def test_twenty_concurrent_sales_of_two_courses_for_one_new_buyer_keep_every_purchase(
    local: ChaliceLocal, sandbox: SandboxServer
) -> None:
    buyer = "cart@example.com"
    handbook = [new_sale_id() for _ in range(10)]
    membership = [new_sale_id() for _ in range(10)]
    bodies = [gumroad_body("sale", email=buyer, sale_id=sale) for sale in handbook] + [
        gumroad_body(
            "sale_with_variants",
            email=buyer,
            sale_id=sale,
            subscription_id=f"sub-{sale}",
            **{"custom_fields[Company]": None},
        )
        for sale in membership
    ]

    outcomes = all_at_once(local, bodies)

    assert [statuses[-1] for statuses in outcomes] == [200] * 20
    user = the_user(sandbox, buyer)
    assert sorted(purchases(user, HANDBOOK)) == sorted(handbook)
    assert sorted(purchases(user, MEMBERSHIP)) == sorted(membership)
    assert roles(user) == {f"course:{HANDBOOK}", f"course:{MEMBERSHIP}"}


TRIALS = 8


def slow_role_assignments(sandbox: SandboxServer, seconds: float) -> None:
    """Auth0 takes its time to assign roles (POST /api/v2/users/{id}/roles): the window a race needs."""
    sandbox.faults.add(
        parse_fault(
            {"status": None, "delay_seconds": seconds, "count": 1000, "paths": "/api/v2/users/", "method": "POST"}
        )
    )


def test_two_concurrent_purchases_of_one_course_both_count_so_one_refund_keeps_access(
    local: ChaliceLocal, sandbox: SandboxServer
) -> None:
    buyers = [f"twice-{trial}@example.com" for trial in range(TRIALS)]
    sales = {buyer: (new_sale_id(), new_sale_id()) for buyer in buyers}
    for buyer in buyers:  # returning buyers: they hold the membership already
        assert deliver(local, gumroad_body("sale_with_variants", email=buyer, **{"custom_fields[Company]": None})) == [
            200
        ]
    slow_role_assignments(sandbox, 0.3)

    all_at_once(local, [gumroad_body("sale", email=buyer, sale_id=sale) for buyer in buyers for sale in sales[buyer]])
    all_at_once(local, [gumroad_body("refund", email=buyer, sale_id=sales[buyer][0]) for buyer in buyers])

    for buyer in buyers:
        user = the_user(sandbox, buyer)
        first, second = sales[buyer]
        assert purchases(user, HANDBOOK) == {first: "refunded", second: "active"}, buyer
        assert roles(user) == {f"course:{HANDBOOK}", f"course:{MEMBERSHIP}"}, f"{buyer} still paid for the course"


def test_a_sale_racing_its_own_full_refund_ends_without_access(local: ChaliceLocal, sandbox: SandboxServer) -> None:
    buyers = [f"race-{trial}@example.com" for trial in range(TRIALS)]
    sales = {buyer: new_sale_id() for buyer in buyers}
    slow_role_assignments(sandbox, 0.5)

    outcomes = all_at_once(
        local,
        [gumroad_body(name, email=buyer, sale_id=sales[buyer]) for buyer in buyers for name in ("sale", "refund")],
    )

    assert [statuses[-1] for statuses in outcomes] == [200] * len(outcomes)
    for buyer in buyers:
        user = the_user(sandbox, buyer)
        assert purchases(user, HANDBOOK) == {sales[buyer]: "refunded"}, buyer
        assert roles(user) == set(), f"{buyer} was refunded in full"
