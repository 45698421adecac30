"""Reconciliation end to end: a recorded Sales API -> the ping queue (moto SQS) -> the worker -> the Auth0 sandbox.

The recorded page (tests/fixtures/gumroad_api/sales_page_reconcile.json) holds a sale whose ping never
came, a refund whose ping never came, and a refunded gift as the Sales API lists it (the giver's
purchase; the giftee's own purchase, which the sale ping named, is not listed and was never pinged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from chalicelib import metrics, wiring
from chalicelib.errors import ReconciliationIncomplete
from chalicelib.purchases.gumroad import format_timestamp
from chalicelib.purchases.reconcile import NEEDED_RESOURCES, Report
from tests.integration import test_queue
from tests.integration.harness import HANDBOOK, MEMBERSHIP, gumroad_body

deployment = test_queue.deployment  # the deployed path's fixture: moto SQS + the worker through chalice.test.Client
Deployment = test_queue.Deployment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gumroad_api"
API = "https://api.gumroad.com"
HANDBOOK_PRODUCT = "32-nPAicqbLj8B_WswVlMw=="
MEMBERSHIP_PRODUCT = "8RhOl0SwGgLXJ0CXvRMUrQ=="
PING_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/api/gumroad/ping"
WATERMARK = "/gumroad-auth0-gate-test/reconcile/watermark"
# The run's clock: the recorded sales are a few days older.
NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
GIFTEE_SALE_ID = "Gr9Tm3wQz6XcV1bN8kLp4A=="  # the giftee's own purchase: in the sale ping, not in the Sales API
MALLORY = "mallory@example.com"


def recorded_page(shift: timedelta = timedelta(0)) -> dict[str, Any]:
    page: dict[str, Any] = json.loads((FIXTURES / "sales_page_reconcile.json").read_text(encoding="utf-8"))
    for sale in page["sales"]:
        sale["created_at"] = format_timestamp(datetime.fromisoformat(sale["created_at"]) + shift)
    return page


def sale_of(page: dict[str, Any], email: str) -> dict[str, Any]:
    return next(sale for sale in page["sales"] if sale["purchase_email"] == email)


class Gumroad:
    """Gumroad's API v2 as recorded: the page for the handbook's product id, nothing for the others,
    and resource subscriptions posting to this stack's ping URL (except those listed in ``missing``)."""

    def __init__(self, mock: responses.RequestsMock, page: dict[str, Any]) -> None:
        self.page = page
        self.membership_page: dict[str, Any] = {"success": True, "sales": []}
        self.missing: set[str] = set()
        self.refuse = False
        self.sales_queries: list[dict[str, str]] = []
        mock.add_callback(responses.GET, f"{API}/v2/sales", callback=self._sales)
        mock.add_callback(responses.GET, f"{API}/v2/resource_subscriptions", callback=self._subscriptions)

    def _sales(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = dict(parse_qsl(urlsplit(request.url).query))
        self.sales_queries.append(query)
        if self.refuse:  # Api::V2::BaseController: a revoked token is a 401 with this body
            return 401, {}, json.dumps({"success": False, "message": "The access token is invalid"})
        body = {HANDBOOK_PRODUCT: self.page, MEMBERSHIP_PRODUCT: self.membership_page}[query["product_id"]]
        return 200, {}, json.dumps(body)

    def _subscriptions(self, request: Any) -> tuple[int, dict[str, str], str]:
        resource = dict(parse_qsl(urlsplit(request.url).query))["resource_name"]
        if self.refuse:
            return 401, {}, json.dumps({"success": False, "message": "The access token is invalid"})
        items = []
        if resource in NEEDED_RESOURCES and resource not in self.missing:
            post_url = PING_URL.replace("https://", "https://gumroad:a-ping-secret-never-logged-123@")
            items.append({"id": f"sub-{resource}", "resource_name": resource, "post_url": post_url})
        return 200, {}, json.dumps({"success": True, "resource_subscriptions": items})


@pytest.fixture
def gumroad(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gumroad]:
    import boto3

    boto3.client("ssm").put_parameter(Name=WATERMARK, Value="not-yet-run", Type="String")
    monkeypatch.setenv("RECONCILE_WATERMARK_PARAMETER", WATERMARK)
    monkeypatch.setenv("GUMROAD_PING_URL", PING_URL)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", "gumroad-oauth-token-for-tests-Rc4")
    wiring.clear_caches()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        yield Gumroad(mock, recorded_page())


def reconcile(*, now: datetime) -> Report:
    """One scheduled run, with a Gumroad token (so it is on)."""
    report = wiring.run_reconciliation(now=now)
    assert report is not None, "a run with a Gumroad token reconciles"
    return report


def seed_earlier_pings(deployment: Deployment, page: dict[str, Any]) -> None:
    """What the service saw before: the refunded buyer's sale ping and the giftee's sale ping (no refund pings)."""
    refunded = sale_of(page, "refunded@example.com")
    giver = sale_of(page, "giver@example.com")
    giftee_bought = format_timestamp(datetime.fromisoformat(giver["created_at"]) + timedelta(seconds=1))
    deployment.ping(
        gumroad_body(
            "sale", email="refunded@example.com", sale_id=refunded["id"], sale_timestamp=refunded["created_at"]
        )
    )
    deployment.ping(
        gumroad_body(
            "sale",
            email="giftee@example.com",
            sale_id=GIFTEE_SALE_ID,
            sale_timestamp=giftee_bought,
            is_gift_receiver_purchase="true",
            gifter_email="giver@example.com",
        )
    )
    assert deployment.drain() == ["ok", "ok"]
    assert role_names(deployment, "refunded@example.com") == [f"course:{HANDBOOK}"]
    assert role_names(deployment, "giftee@example.com") == [f"course:{HANDBOOK}"]


def role_names(deployment: Deployment, email: str) -> list[str]:
    users = deployment.users_with(email)
    return sorted(role["name"] for user in users for role in user["roles"])


def emitted(caplog: pytest.LogCaptureFixture, name: str) -> float:
    """The sum of one metric over the EMF lines logged so far."""
    total = 0.0
    for record in caplog.records:
        if record.name != "gumroad_auth0.metrics":
            continue
        line = json.loads(record.getMessage())
        if any(item["Name"] == name for item in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]):
            total += float(line[name])
    return total


def test_a_run_fixes_a_missed_sale_a_missed_refund_and_a_refunded_gift_exactly_once(
    deployment: Deployment, gumroad: Gumroad, caplog: pytest.LogCaptureFixture
) -> None:
    seed_earlier_pings(deployment, gumroad.page)
    caplog.set_level(logging.INFO, logger="gumroad_auth0")

    report = reconcile(now=NOW)
    outcomes = deployment.drain()

    assert report.by_kind() == {"sale": 1, "refund": 2}
    assert outcomes == ["ok", "ok", "ok", "ok", "ok"]  # the two seeding pings, then the three fixes
    assert role_names(deployment, "missed.ping@example.com") == [f"course:{HANDBOOK}"]
    assert role_names(deployment, "refunded@example.com") == []
    assert role_names(deployment, "giftee@example.com") == [], "the gift's refund revokes the giftee's access"
    assert deployment.users_with("giver@example.com") == [], "the giver never gets an account"
    [giftee] = deployment.users_with("giftee@example.com")
    purchases = giftee["app_metadata"][f"gumroad_{HANDBOOK}"]["purchases"]
    # One purchase: the giver's refunded sale paired with the giftee's own (its id stays the giftee's).
    assert [(purchase["id"], purchase["status"], purchase["gift"]) for purchase in purchases] == [
        (GIFTEE_SALE_ID, "refunded", True)
    ]
    assert emitted(caplog, metrics.RECONCILIATION_GRANTED) == 1
    assert emitted(caplog, metrics.RECONCILIATION_REVOKED) == 2
    assert emitted(caplog, metrics.RECONCILIATION_ALREADY_RIGHT) == 0
    assert emitted(caplog, metrics.MISSING_SUBSCRIPTIONS) == 0
    assert [query["after"] for query in gumroad.sales_queries] == ["2026-10-25"] * 2, "35 days, each product id"


def test_a_second_run_changes_nothing(
    deployment: Deployment, gumroad: Gumroad, caplog: pytest.LogCaptureFixture
) -> None:
    seed_earlier_pings(deployment, gumroad.page)
    reconcile(now=NOW)
    processed_before = len(deployment.drain())
    before = deployment.sandbox.tenant.describe()["users"]
    caplog.set_level(logging.INFO, logger="gumroad_auth0")
    caplog.clear()

    report = reconcile(now=NOW + timedelta(minutes=30))
    outcomes = deployment.drain()[processed_before:]

    assert report.already_checked == 1, "the sale was checked by the first run (the watermark moved)"
    assert report.by_kind() == {"refund": 2}, "revocations are re-sent while their sale is inside the lookback"
    assert deployment.sandbox.tenant.describe()["users"] == before
    assert emitted(caplog, metrics.RECONCILIATION_GRANTED) == 0
    assert emitted(caplog, metrics.RECONCILIATION_REVOKED) == 0
    # Each re-sent refund costs the worker one lookup and is counted as already right (SQS drops a re-send
    # within its five-minute deduplication window before the worker sees it).
    assert outcomes == ["ok"] * len(outcomes)
    assert emitted(caplog, metrics.RECONCILIATION_ALREADY_RIGHT) == len(outcomes) <= 2
    processed = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.ping"]
    assert [line["auth0_calls"] for line in processed] == [1] * len(outcomes), "one lookup each, no write"
    assert {line["origin"] for line in processed} <= {"reconciliation"}


def test_a_missing_resource_subscription_is_logged_and_measured_for_the_alarm(
    deployment: Deployment, gumroad: Gumroad, caplog: pytest.LogCaptureFixture
) -> None:
    gumroad.missing = {"refund", "subscription_ended"}
    caplog.set_level(logging.INFO, logger="gumroad_auth0")

    report = reconcile(now=NOW)

    assert report.failed == 0, "the reconciliation itself still runs"

    assert emitted(caplog, metrics.MISSING_SUBSCRIPTIONS) == 2
    [health] = [json.loads(r.getMessage()) for r in caplog.records if '"subscription_health"' in r.getMessage()]
    assert health["missing"] == ["refund", "subscription_ended"]
    assert "a-ping-secret-never-logged-123" not in caplog.text
    assert "gumroad-oauth-token-for-tests-Rc4" not in caplog.text


def test_the_scheduled_function_runs_through_the_chalice_test_client(
    deployment: Deployment, gumroad: Gumroad, caplog: pytest.LogCaptureFixture
) -> None:
    # The scheduled function reads the real clock: move the recorded sales to "a few days ago".
    gumroad.page = recorded_page(shift=datetime.now(UTC) - NOW)
    caplog.set_level(logging.INFO, logger="gumroad_auth0")

    deployment.client.lambda_.invoke(
        "reconcile",
        deployment.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )
    deployment.drain()

    assert role_names(deployment, "missed.ping@example.com") == [f"course:{HANDBOOK}"]
    import boto3

    stored = boto3.client("ssm").get_parameter(Name=WATERMARK)["Parameter"]["Value"]
    assert datetime.fromisoformat(stored) > NOW, "the watermark moved to this run's start"


def test_a_refused_gumroad_token_fails_the_run_and_keeps_the_watermark(
    deployment: Deployment, gumroad: Gumroad, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    gumroad.refuse = True

    with pytest.raises(ReconciliationIncomplete, match="gumroad_api_error"):
        reconcile(now=NOW)

    assert boto3.client("ssm").get_parameter(Name=WATERMARK)["Parameter"]["Value"] == "not-yet-run"
    assert deployment.work_once() is None, "nothing was queued"


def test_a_refund_for_a_buyer_auth0_never_saw_is_settled_not_retried(deployment: Deployment, gumroad: Gumroad) -> None:
    sale_of(gumroad.page, "missed.ping@example.com")["refunded"] = True

    report = reconcile(now=NOW)
    outcomes = deployment.drain()

    assert report.by_kind() == {"refund": 3}
    assert outcomes == ["ok", "ok", "ok"], "no retry: there is no sale on its way, and no access to remove"
    assert deployment.users_with("missed.ping@example.com") == []
    assert deployment.dead_letters() == []


def test_an_ended_membership_loses_access_once_and_later_runs_write_nothing(
    deployment: Deployment, gumroad: Gumroad, caplog: pytest.LogCaptureFixture
) -> None:
    membership = json.loads((FIXTURES / "sale_membership.json").read_text(encoding="utf-8"))
    membership.update(purchase_email="member@example.com", created_at="2026-11-10T19:38:56Z", cancelled=True, dead=True)
    gumroad.membership_page = {"success": True, "sales": [membership]}
    gumroad.page = {"success": True, "sales": []}
    deployment.ping(
        gumroad_body(
            "sale_with_variants",
            email="member@example.com",
            sale_id=membership["id"],
            sale_timestamp=membership["created_at"],
        )
    )
    deployment.drain()
    assert role_names(deployment, "member@example.com") == [f"course:{MEMBERSHIP}"]

    first = reconcile(now=NOW)
    deployment.drain()
    assert first.by_kind() == {"subscription_ended": 1}
    assert role_names(deployment, "member@example.com") == []
    before = deployment.users_with("member@example.com")
    caplog.set_level(logging.INFO, logger="gumroad_auth0")
    caplog.clear()

    second = reconcile(now=NOW + timedelta(minutes=30))
    deployment.drain()

    assert second.by_kind() == {"subscription_ended": 1}, "re-sent (its time is the run's, so never deduplicated)"
    assert deployment.users_with("member@example.com") == before
    processed = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.ping"]
    assert [(line["outcome"], line["auth0_calls"]) for line in processed] == [("already_done", 1)]


def test_a_self_gift_ends_with_the_givers_dispute_ping_and_its_refund_in_the_sales_api_never_touching_her_own(
    deployment: Deployment, gumroad: Gumroad
) -> None:
    # "Mallory@example.com" gives the handbook to "mallory@example.com" (Gumroad refuses only an exact match),
    # then buys it for herself too. The recorded gift becomes hers; her own purchase is the missed-ping sale.
    page = gumroad.page
    giver = sale_of(page, "giver@example.com")
    giver |= {
        "purchase_email": MALLORY,
        "email": MALLORY,
        "giftee_email": MALLORY,
        "gifter_email": "Mallory@example.com",
    }
    own = sale_of(page, "missed.ping@example.com")
    own |= {"purchase_email": MALLORY, "email": MALLORY}
    giftee_bought = format_timestamp(datetime.fromisoformat(giver["created_at"]) + timedelta(seconds=1))
    gift = gumroad_body(
        "sale_gift", email=MALLORY, gifter_email=MALLORY, sale_id=GIFTEE_SALE_ID, sale_timestamp=giftee_bought
    )
    deployment.ping(gift)
    assert deployment.drain()[-1] == "ok"
    assert role_names(deployment, MALLORY) == [f"course:{HANDBOOK}"]

    # The giver's dispute is pinged for the giver's purchase, with the giver's address and no gift flag.
    dispute = gumroad_body(
        "dispute_gift_giver", email="Mallory@example.com", sale_id=giver["id"], sale_timestamp=giver["created_at"]
    )
    deployment.ping(dispute)
    assert deployment.drain()[-1] == "ok"
    assert role_names(deployment, MALLORY) == [], "the ping ends the access the gift gave"

    # Her own purchase arrives (by reconciliation, its ping was missed), and the Sales API lists the gift refunded.
    reconcile(now=NOW)
    assert set(deployment.drain()) == {"ok"}

    assert role_names(deployment, MALLORY) == [f"course:{HANDBOOK}"], "her own purchase grants the course"
    [user] = deployment.users_with(MALLORY)
    purchases = user["app_metadata"][f"gumroad_{HANDBOOK}"]["purchases"]
    assert sorted((purchase["status"], purchase.get("gift", False)) for purchase in purchases) == [
        ("active", False),
        ("refunded", True),
    ], "one gift (giver's and giftee's purchases joined), refunded; her own purchase untouched"


def test_without_a_gumroad_token_the_reconciliation_is_off_with_one_warning_and_no_failure(
    deployment: Deployment, gumroad: Gumroad, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import boto3

    monkeypatch.delenv("GUMROAD_ACCESS_TOKEN")
    wiring.clear_caches()
    caplog.set_level(logging.INFO, logger="gumroad_auth0")

    # As EventBridge invokes it: an exception here would count as the function's error (ReconcileFailedAlarm).
    deployment.client.lambda_.invoke(
        "reconcile",
        deployment.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )

    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name.startswith("gumroad_auth0")]
    assert [(line["level"], line["event"]) for line in lines] == [("warning", "reconciliation_off")]
    assert lines[0]["reason"] == "no_gumroad_access_token"
    assert "gumroad_access_token" in lines[0]["detail"]
    assert gumroad.sales_queries == [], "Gumroad is not asked without a token"
    assert not any(metrics.MISSING_SUBSCRIPTIONS in line for line in lines), "no subscription metric, no alarm"
    assert boto3.client("ssm").get_parameter(Name=WATERMARK)["Parameter"]["Value"] == "not-yet-run"
    assert deployment.work_once() is None, "nothing was queued"
