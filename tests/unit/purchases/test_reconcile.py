"""The reconciliation's parts without the network: the window and its watermark, what each listed sale
becomes, what a run sends, and the subscription check."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.aws.parameters import ParameterWatermark
from chalicelib.catalogue import load_catalogue
from chalicelib.config.reconcile_settings import ReconcileSettings
from chalicelib.errors import ConfigurationError, ReconciliationIncomplete, UpstreamUnavailable
from chalicelib.gumroad_api.client import ResourceSubscription
from chalicelib.purchases.events import RECONCILIATION_ORIGIN, SaleEvent, SubscriptionEvent
from chalicelib.purchases.queue import QueuedEvent
from chalicelib.purchases.reconcile import (
    NEEDED_RESOURCES,
    Reconciler,
    Window,
    check_subscriptions,
    run_scheduled,
    window,
)
from chalicelib.purchases.sales import observe

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "gumroad_api"
SELLER_ID = "kL0psVL2admJSYRNs-OCMg=="
NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
OBSERVED = "2026-11-29T12:00:00Z"
PING_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping"
CATALOG = load_catalogue(ROOT / "chalicelib" / "courses.local.json")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sale(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("sale.json")
    body.update({"created_at": "2026-11-28T10:00:00Z", **changes})
    return body


def membership(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("sale_membership.json")
    body.update({"created_at": "2026-11-20T10:00:00Z", **changes})
    return body


# --- the window ----------------------------------------------------------------------------------


def test_a_first_run_sends_the_lookbacks_live_sales_and_revocations() -> None:
    assert window(NOW, None, lookback_days=35) == Window(read_after="2026-10-25", new_since="2026-10-25T12:00:00Z")


def test_later_runs_send_live_sales_since_the_watermark_less_the_overlap() -> None:
    chosen = window(NOW, "2026-11-29T11:30:00Z", lookback_days=35, overlap_minutes=60)

    assert chosen == Window(read_after="2026-10-25", new_since="2026-11-29T10:30:00Z")


def test_a_watermark_older_than_the_lookback_widens_the_read() -> None:
    chosen = window(NOW, "2026-06-01T08:00:00Z", lookback_days=35, overlap_minutes=60)

    assert chosen == Window(read_after="2026-06-01", new_since="2026-06-01T07:00:00Z")


def test_a_watermark_from_the_future_never_hides_a_sale() -> None:
    chosen = window(NOW, "2027-01-01T00:00:00Z", lookback_days=35, overlap_minutes=0)

    assert chosen.new_since == "2026-11-29T12:00:00Z"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        client = boto3.client("ssm")
        client.put_parameter(Name="/stack/reconcile/watermark", Value="not-yet-run", Type="String")
        yield client


def test_the_watermark_is_unset_until_a_run_writes_it(ssm: Any) -> None:
    store = ParameterWatermark(client_factory=lambda: ssm, name="/stack/reconcile/watermark")

    assert store.read() is None
    store.write("2026-11-29T12:00:00Z")
    assert store.read() == "2026-11-29T12:00:00Z"


def test_a_watermark_edited_by_hand_is_read_as_an_instant_or_refused(ssm: Any) -> None:
    store = ParameterWatermark(client_factory=lambda: ssm, name="/stack/reconcile/watermark")

    store.write("2026-11-01")
    assert store.read() == "2026-11-01T00:00:00Z"
    store.write("yesterday")
    with pytest.raises(ConfigurationError, match="not a date"):
        store.read()


# --- what a listed sale becomes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "kind", "flags"),
    [
        ({}, "sale", {"refunded": False, "disputed": False}),
        ({"partially_refunded": True}, "sale", {"refunded": False}),
        ({"refunded": True}, "refund", {"refunded": True}),
        ({"chargedback": True, "disputed": True}, "dispute", {"disputed": True, "dispute_won": False}),
        ({"disputed": True, "dispute_won": True}, "dispute_won", {"disputed": True, "dispute_won": True}),
    ],
)
def test_a_sale_becomes_the_event_its_ping_would_carry(
    changes: dict[str, Any], kind: str, flags: dict[str, Any]
) -> None:
    seen = observe(sale(**changes), seller_id=SELLER_ID, observed_at=OBSERVED)

    assert seen.kind == kind
    assert isinstance(seen.event, SaleEvent)
    assert seen.event.event_name == kind
    assert seen.event.sale_id == "FO8TXN-dvxYabdavG97Y-Q=="
    assert seen.event.email == "calvin@gumroad.com"
    assert seen.event.origin == RECONCILIATION_ORIGIN
    assert {name: getattr(seen.event, name) for name in flags} == flags


def test_a_membership_no_longer_alive_becomes_its_end_at_the_runs_time() -> None:
    seen = observe(membership(cancelled=True, dead=True), seller_id=SELLER_ID, observed_at=OBSERVED)

    assert seen.kind == "subscription_ended"
    assert isinstance(seen.event, SubscriptionEvent)
    assert (seen.event.subscription_id, seen.event.occurred_at) == ("GazW4_NBcQy-o7Gjjng7lw==", OBSERVED)
    assert seen.event.purchase_ids == ("B28UKN-dvxYabdavG97Y-Q==",)
    assert seen.event.origin == RECONCILIATION_ORIGIN


def test_a_cancelled_membership_still_alive_still_grants() -> None:
    assert observe(membership(cancelled=True), seller_id=SELLER_ID, observed_at=OBSERVED).kind == "sale"


def test_a_gift_stands_for_the_giftee_the_api_does_not_list() -> None:
    listed = sale(
        is_gift_sender_purchase=True,
        refunded=True,
        giftee_email="Giftee@Example.com",
        gifter_email="calvin@gumroad.com",
    )

    seen = observe(listed, seller_id=SELLER_ID, observed_at=OBSERVED)

    assert seen.kind == "refund"
    assert isinstance(seen.event, SaleEvent)
    assert (seen.event.email, seen.event.gift, seen.event.full_name) == ("giftee@example.com", True, None)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"seller_id": "another-seller-id-000000=="}, "other_seller"),
        ({"is_gift_sender_purchase": True}, "gift_without_giftee_email"),
        ({"purchase_email": None, "email": None}, "unreadable_sale: email is missing"),
    ],
)
def test_sales_that_say_nothing_about_a_buyer_are_skipped(changes: dict[str, Any], reason: str) -> None:
    seen = observe(sale(**changes), seller_id=SELLER_ID, observed_at=OBSERVED)

    assert (seen.kind, seen.event, seen.skip) == (None, None, reason)


# --- what a run sends -----------------------------------------------------------------------------


class Pages:
    """GET /v2/sales per product id, as recorded (one page each)."""

    def __init__(self, **by_product: list[dict[str, Any]]) -> None:
        self.by_product = by_product
        self.asked: list[tuple[str, str | None]] = []

    def sales_pages(
        self, *, product_id: str, after: str | None = None, before: str | None = None
    ) -> Iterable[list[dict[str, Any]]]:
        self.asked.append((product_id, after))
        yield self.by_product.get(product_id, [])


class Sink:
    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[QueuedEvent] = []
        self.fail = fail

    def enqueue(self, event: QueuedEvent, *, redriven: bool = False) -> str:
        if self.fail:
            raise UpstreamUnavailable("the ping could not be queued (ServiceUnavailable)")
        self.sent.append(event)
        return "message-id"


def reconciler(pages: Pages, sink: Sink | None) -> Reconciler:
    return Reconciler(sales=pages, catalogue=CATALOG, sink=sink, seller_id=SELLER_ID, provision_test_purchases=False)


HANDBOOK = "32-nPAicqbLj8B_WswVlMw=="
MEMBERSHIP = "8RhOl0SwGgLXJ0CXvRMUrQ=="


def test_a_dry_run_lists_what_it_would_send_and_sends_nothing() -> None:
    pages = Pages(**{HANDBOOK: [sale(), sale(id="Rf7Kq2mNcX9dLw4tYb0sHg==", refunded=True)]})

    report = reconciler(pages, None).run(window(NOW, None), now=NOW)

    assert report.apply is False
    assert [(item.kind, item.buyer, item.course) for item in report.sent] == [
        ("sale", "c***n@gumroad.com", "serverless-handbook"),
        ("refund", "c***n@gumroad.com", "serverless-handbook"),
    ]
    assert "would enqueue (dry run; add --apply): sale 1, refund 1" in report.as_text()
    assert "calvin@gumroad.com" not in report.as_text()
    assert pages.asked == [(HANDBOOK, "2026-10-25"), (MEMBERSHIP, "2026-10-25")], "product ids only"
    assert "not read, not Gumroad product ids" in report.notes[0]


def test_live_sales_older_than_the_watermark_are_not_sent_again_but_revocations_are() -> None:
    pages = Pages(**{HANDBOOK: [sale(created_at="2026-11-20T10:00:00Z"), sale(id="R2", refunded=True)]})
    sink = Sink()

    report = reconciler(pages, sink).run(window(NOW, "2026-11-28T12:00:00Z"), now=NOW)

    assert [event.event_name for event in sink.sent] == ["refund"]
    assert report.already_checked == 1


def test_the_charges_of_one_ended_membership_send_one_end() -> None:
    charges = [
        membership(dead=True),
        membership(id="C2", created_at="2026-11-25T10:00:00Z", recurring_charge=True, dead=True),
    ]
    sink = Sink()

    report = reconciler(Pages(**{MEMBERSHIP: charges}), sink).run(window(NOW, None), now=NOW)

    assert [event.event_name for event in sink.sent] == ["subscription_ended"]
    assert report.by_kind() == {"subscription_ended": 1}


def test_events_are_sent_oldest_first_so_a_buyers_sale_precedes_its_refund() -> None:
    newer_refund = sale(id="R3", created_at="2026-11-28T11:00:00Z", refunded=True)
    older_sale = sale(id="S1", created_at="2026-11-28T09:00:00Z")
    sink = Sink()

    reconciler(Pages(**{HANDBOOK: [newer_refund, older_sale]}), sink).run(window(NOW, None), now=NOW)

    assert [getattr(event, "sale_id", None) for event in sink.sent] == ["S1", "R3"]


class Watermark:
    def __init__(self, value: str | None = None) -> None:
        self.value = value
        self.writes: list[str] = []

    def read(self) -> str | None:
        return self.value

    def write(self, value: str) -> None:
        self.writes.append(value)
        self.value = value


class Subscriptions:
    def __init__(self, post_urls: dict[str, list[str]]) -> None:
        self.post_urls = post_urls

    def resource_subscriptions(
        self, resource_name: str, *, this_application_only: bool = False
    ) -> list[ResourceSubscription]:
        return [
            ResourceSubscription(id=f"{resource_name}-{number}", resource_name=resource_name, post_url=url)
            for number, url in enumerate(self.post_urls.get(resource_name, []))
        ]


def all_registered(secret: str = "ping-secret-XYZ-never-logged") -> Subscriptions:
    post_url = PING_URL.replace("https://", f"https://gumroad:{secret}@")
    return Subscriptions({resource: [post_url] for resource in NEEDED_RESOURCES})


def test_a_run_moves_the_watermark_to_its_start_when_everything_was_queued() -> None:
    mark = Watermark("2026-11-29T11:30:00Z")

    run_scheduled(
        reconciler=reconciler(Pages(**{HANDBOOK: [sale()]}), Sink()),
        subscriptions=all_registered(),
        watermark=mark,
        settings=ReconcileSettings(watermark_parameter=None, ping_url=PING_URL),
        now=NOW,
    )

    assert mark.writes == ["2026-11-29T12:00:00Z"]


def test_a_run_that_could_not_queue_keeps_the_watermark_and_fails(caplog: pytest.LogCaptureFixture) -> None:
    mark = Watermark("2026-11-29T11:30:00Z")

    with pytest.raises(ReconciliationIncomplete, match="1 events could not be queued"):
        run_scheduled(
            reconciler=reconciler(Pages(**{HANDBOOK: [sale(created_at="2026-11-29T11:45:00Z")]}), Sink(fail=True)),
            subscriptions=all_registered(),
            watermark=mark,
            settings=ReconcileSettings(watermark_parameter=None, ping_url=PING_URL),
            now=NOW,
        )

    assert mark.writes == []
    assert '"event":"reconciliation_not_queued"' in caplog.text


# --- subscription health --------------------------------------------------------------------------


def test_subscriptions_posting_to_this_stack_count_whatever_secret_they_carry() -> None:
    health = check_subscriptions(all_registered(), ping_url=PING_URL)

    assert health.missing == ()
    assert health.registered == NEEDED_RESOURCES
    assert health.sale_registered is False


def test_a_subscription_to_another_host_or_path_is_missing() -> None:
    elsewhere = all_registered()
    elsewhere.post_urls["refund"] = ["https://gumroad:s@old-stack.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping"]
    elsewhere.post_urls["dispute"] = [PING_URL.replace("/gumroad/ping", "/other")]
    del elsewhere.post_urls["cancellation"]
    elsewhere.post_urls["sale"] = [PING_URL + "/"]

    health = check_subscriptions(elsewhere, ping_url=PING_URL)

    assert health.missing == ("refund", "dispute", "cancellation")
    assert health.sale_registered is True, "a trailing slash is the same path"


def test_the_health_line_names_resources_never_post_urls(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gumroad_auth0")
    partial = all_registered(secret="ping-secret-XYZ-never-logged")
    del partial.post_urls["subscription_restarted"]

    run_scheduled(
        reconciler=reconciler(Pages(), Sink()),
        subscriptions=partial,
        watermark=Watermark(),
        settings=ReconcileSettings(watermark_parameter=None, ping_url=PING_URL),
        now=NOW,
    )

    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"subscription_health"' in r.getMessage()]
    assert (line["level"], line["missing"]) == ("warning", ["subscription_restarted"])
    assert "ping-secret-XYZ-never-logged" not in caplog.text
    assert "abc123" not in caplog.text


def test_a_run_without_its_ping_url_fails_loudly() -> None:
    with pytest.raises(ReconciliationIncomplete, match="GUMROAD_PING_URL"):
        run_scheduled(
            reconciler=reconciler(Pages(), Sink()),
            subscriptions=all_registered(),
            watermark=Watermark(),
            settings=ReconcileSettings(watermark_parameter=None, ping_url=None),
            now=NOW - timedelta(0),
        )
