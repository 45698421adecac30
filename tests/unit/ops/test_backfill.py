"""`python -m ops backfill`: recorded Gumroad sales pages, fulfilled into the offline Auth0 sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from moto import mock_aws
from responses import matchers

from chalicelib import wiring
from chalicelib.errors import GumroadApiError, UpstreamUnavailable
from chalicelib.gumroad_api.client import GumroadApi
from chalicelib.purchases.events import SaleEvent
from chalicelib.purchases.gumroad import event_from_fields
from chalicelib.purchases.outcomes import Outcome
from chalicelib.purchases.queue import REDRIVEN_ATTRIBUTE, decode_event, group_id
from chalicelib.purchases.sales import sale_fields, skip_reason
from ops.__main__ import main as ops
from ops.backfill import Planned, plan, run
from ops.backfill_report import FAILED, MAX_CONSECUTIVE_FAILURES
from sandbox.server import SandboxServer
from sandbox.tenant.seeding import seed_user
from tests.integration.harness import CATALOGUE, ROOT, SELLER_ID, service_environment

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad_api"
SALES = "https://api.gumroad.com/v2/sales"
ACCESS_TOKEN = "gumroad-oauth-token-for-tests-Xq9"
HANDBOOK_PRODUCT = "32-nPAicqbLj8B_WswVlMw=="
MEMBERSHIP_PRODUCT = "8RhOl0SwGgLXJ0CXvRMUrQ=="
HANDBOOK_ROLE = "course:serverless-handbook"
MEMBERSHIP_ROLE = "course:pro-membership"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sale(**changes: Any) -> dict[str, Any]:
    """A one-time sale of the handbook as ``GET /v2/sales`` lists it."""
    body: dict[str, Any] = fixture("sale.json")
    body.update(changes)
    return body


def membership_sale(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("sale_membership.json")
    body.update(changes)
    return body


def pages(mock: responses.RequestsMock, product_id: str, *contents: list[dict[str, Any]], **filters: str) -> None:
    """``GET /v2/sales?product_id=`` answering ``contents`` one page after another, through page_key."""
    for index, sales in enumerate(contents):
        last = index == len(contents) - 1
        body = fixture("sales_page_last.json" if last else "sales_page_first.json")
        body["sales"] = sales
        if not last:
            body["next_page_key"] = page_key(index + 1)
            body["next_page_url"] = f"/v2/sales?page_key={page_key(index + 1)}&product_id={product_id}"
        params = {"product_id": product_id, **filters, **({"page_key": page_key(index)} if index else {})}
        mock.add(responses.GET, SALES, json=body, match=[matchers.query_param_matcher(params)])


def query(request: Any) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(str(request.url)).query))


def page_key(number: int) -> str:
    return f"2021012318240700000{number}-34393214{number}"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, state_path=None, catalogue=ROOT / CATALOGUE) as server:
        yield server


@pytest.fixture
def gumroad(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    """The service's `local` environment against the sandbox; Gumroad's API answered by recordings."""
    for name, value in service_environment(sandbox).items():
        monkeypatch.setenv(name, value)
    for name in ("AUTH0_SECRET_ID", "BUYER_ONBOARDING", "GUMROAD_PROVISION_TEST_PURCHASES", "PING_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", ACCESS_TOKEN)
    wiring.clear_caches()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(sandbox.base_url)  # GetToken and the onboarding e-mail reach the sandbox
        yield mock
    wiring.clear_caches()


def role_names(sandbox: SandboxServer, email: str) -> list[str]:
    [user] = [user for user in sandbox.tenant.describe()["users"] if user["email"] == email]
    return sorted(role["name"] for role in user["roles"])


def auth0_writes(sandbox: SandboxServer) -> dict[str, int]:
    """Requests that change the tenant or send e-mail (reads and token requests excluded)."""
    requests = sandbox.stats.snapshot()["requests"]
    return {
        endpoint: count
        for endpoint, count in requests.items()
        if not endpoint.startswith("GET ") and endpoint != "POST /oauth/token"
    }


def run_ops(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = ops(args)
    captured = capsys.readouterr()
    assert ACCESS_TOKEN not in captured.out + captured.err
    return code, captured.out, captured.err


def test_dry_run_says_who_would_be_granted_and_writes_nothing(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="reader@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [membership_sale(purchase_email="member@example.com")])

    code, out, _ = run_ops(["backfill"], capsys)

    assert code == 0
    assert "dry run" in out
    assert out.count("would grant") == 3  # the summary line and two sales
    assert auth0_writes(sandbox) == {}
    assert sandbox.tenant.describe()["users"] == []
    assert all(call.request.method == "GET" for call in gumroad.calls)


def test_apply_grants_through_the_ping_path_and_a_second_run_changes_nothing(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="reader@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [membership_sale(purchase_email="member@example.com")])

    code, out, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 0
    assert role_names(sandbox, "reader@example.com") == [HANDBOOK_ROLE]
    assert role_names(sandbox, "member@example.com") == [MEMBERSHIP_ROLE]
    assert "granted              2  (2 new buyers)" in out
    sandbox.stats.reset()

    code, out, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 0
    assert "already had access   2" in out
    assert "granted              0" in out
    assert auth0_writes(sandbox) == {}, "a buyer who has the course costs no write"


@pytest.fixture
def work_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SQSClient, str]]:
    """A FIFO work queue (moto), started before the `gumroad` fixture so that its mock of
    ``requests`` stays the one in charge."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        sqs = boto3.client("sqs")
        yield sqs, sqs.create_queue(QueueName="pings.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]


def test_apply_with_a_work_queue_sends_each_sale_to_its_buyers_group_and_writes_nothing_to_auth0(
    work_queue: tuple[SQSClient, str],
    gumroad: responses.RequestsMock,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sqs, url = work_queue
    monkeypatch.setenv("PING_QUEUE_URL", url)
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="reader@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [membership_sale(purchase_email="member@example.com")])

    code, out, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 0
    assert "queued               2" in out
    assert auth0_writes(sandbox) == {}, "the worker writes, not the backfill"
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    events = {decode_event(message["Body"]).email: message for message in messages}
    assert sorted(events) == ["member@example.com", "reader@example.com"]
    for email, message in events.items():
        assert message["Attributes"]["MessageGroupId"] == group_id(decode_event(message["Body"])), email
        assert message["MessageAttributes"][REDRIVEN_ATTRIBUTE]["StringValue"] == "true", "the worker re-reads roles"


def test_a_buyer_given_the_role_by_hand_gets_a_purchase_record_and_no_second_account(
    gumroad: responses.RequestsMock,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A creator who made database users by hand lists that connection (with its sign-ups off): see docs/sign-in.md.
    monkeypatch.setenv("AUTH0_TRUSTED_CONNECTIONS", "Username-Password-Authentication email google-oauth2")
    seed_user(
        sandbox.tenant,
        email="early@example.com",
        connection="Username-Password-Authentication",
        password=None,
        role_ids=["rol_LocalServerless01"],
        app_metadata=None,
        email_verified=True,  # a student who verified their address: with the connection trusted, it may hold
    )
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="early@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [])

    code, out, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 0
    # Without a purchase record the ping path assigns the role again (a no-op in Auth0) and records the sale.
    assert "granted              1  (0 new buyers)" in out
    assert "POST /api/v2/users" not in auth0_writes(sandbox)
    [user] = sandbox.tenant.describe()["users"]
    assert [role["name"] for role in user["roles"]] == [HANDBOOK_ROLE]
    assert user["app_metadata"]["gumroad_serverless-handbook"]["purchases"][0]["sale_id"] == "FO8TXN-dvxYabdavG97Y-Q=="


def test_every_page_is_read_through_next_page_key(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(
        gumroad,
        HANDBOOK_PRODUCT,
        [sale(id="SaleOnPageOne0000000Aa==", purchase_email="one@example.com")],
        [sale(id="SaleOnPageTwo0000000Bb==", purchase_email="two@example.com")],
    )
    pages(gumroad, MEMBERSHIP_PRODUCT, [])

    code, _, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 0
    assert role_names(sandbox, "two@example.com") == [HANDBOOK_ROLE]
    second = [call.request for call in gumroad.calls if "page_key" in query(call.request)]
    assert len(second) == 1
    assert second[0].headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_sales_that_grant_nobody_access_are_skipped_without_calling_auth0(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(
        gumroad,
        HANDBOOK_PRODUCT,
        [
            sale(id="Refunded000000000000Aa==", refunded=True),
            sale(id="Chargedback000000000Bb==", chargedback=True, disputed=True),
            sale(id="GiftGiver00000000000Cc==", is_gift_sender_purchase=True, giftee_email="friend@example.com"),
            sale(id="OtherSeller000000000Dd==", seller_id="SomeoneElse00000000000=="),
        ],
    )
    pages(gumroad, MEMBERSHIP_PRODUCT, [membership_sale(id="EndedMember000000000Ee==", dead=True, ended=True)])

    code, out, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 0
    for reason in ("refunded", "chargedback", "gift_sender_purchase", "other_seller", "membership_not_alive"):
        assert f"{reason} 1" in out
    assert sandbox.stats.snapshot()["management_requests"] == 0
    assert sandbox.tenant.describe()["users"] == []


def test_a_membership_is_fulfilled_once_however_many_charges_it_has(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    renewal = membership_sale(id="Renewal0000000000000Aa==", created_at="2021-02-05T19:38:56Z", recurring_charge=True)
    pages(gumroad, HANDBOOK_PRODUCT, [])
    pages(gumroad, MEMBERSHIP_PRODUCT, [renewal, membership_sale()])

    code, out, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 0
    assert "later_charge_of_same_membership 1" in out
    assert "granted              1" in out
    [user] = sandbox.tenant.describe()["users"]
    [purchase] = user["app_metadata"]["gumroad_pro-membership"]["purchases"]
    assert purchase["sale_id"] == "B28UKN-dvxYabdavG97Y-Q==", "the record keeps the first charge, as the ping path does"


def test_a_sale_that_fails_is_counted_and_the_exit_code_says_so(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.tenant.roles.pop("rol_LocalServerless01")
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="stuck@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [membership_sale(purchase_email="member@example.com")])

    code, out, _ = run_ops(["backfill", "--apply"], capsys)

    assert code == 1
    assert "failed               1" in out
    assert "upstream_rejected" in out
    assert role_names(sandbox, "member@example.com") == [MEMBERSHIP_ROLE], "one failure does not stop the others"


def test_buyers_appear_masked_and_progress_goes_to_stderr(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="private.reader@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [])

    code, out, err = run_ops(["backfill"], capsys)

    assert code == 0
    assert "private.reader@example.com" not in out + err
    assert "p***r@example.com" in out
    assert "backfill [" in err
    assert "1/1" in err
    assert "backfill [" not in out


def test_catalogue_keys_that_are_not_product_ids_are_noted_not_queried(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [])
    pages(gumroad, MEMBERSHIP_PRODUCT, [])

    code, out, _ = run_ops(["backfill"], capsys)

    assert code == 0
    assert "not queried, not product ids" in out
    assert "'pencil' (serverless-handbook)" in out
    queried = {query(call.request)["product_id"] for call in gumroad.calls}
    assert queried == {HANDBOOK_PRODUCT, MEMBERSHIP_PRODUCT}


def test_product_limits_the_backfill_to_one_catalogue_product(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, MEMBERSHIP_PRODUCT, [membership_sale()], after="2021-01-01")

    code, _, _ = run_ops(["backfill", "--product", MEMBERSHIP_PRODUCT, "--after", "2021-01-01"], capsys)

    assert code == 0
    assert [query(call.request) for call in gumroad.calls] == [
        {"product_id": MEMBERSHIP_PRODUCT, "after": "2021-01-01"}
    ]


def test_a_malformed_date_or_unknown_product_is_refused_before_any_call(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_ops(["backfill", "--after", "05/01/2021"], capsys)[0] == 2
    assert run_ops(["backfill", "--product", "NotInTheCatalogue00000=="], capsys)[0] == 2
    assert run_ops(["backfill", "--product", "pencil"], capsys)[0] == 2
    assert len(gumroad.calls) == 0


def test_an_invalid_product_id_answer_from_gumroad_is_reported(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, SALES, status=400, json=fixture("sales_invalid_product_id.json"))

    code, _, err = run_ops(["backfill"], capsys)

    assert code == 2
    assert "Invalid product ID." in err


def test_the_dry_run_creates_a_new_buyer_only_once_across_courses(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="both@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [membership_sale(purchase_email="both@example.com")])

    code, out, _ = run_ops(["backfill"], capsys)

    assert code == 0
    assert out.count("user_created") == 1
    assert out.count("role_assigned") == 2
    assert auth0_writes(sandbox) == {}


def test_api_sales_become_the_events_a_ping_would_carry() -> None:
    api_sale = sale(email="account.address@example.com", purchase_email="Buyer@Example.com")
    del api_sale["refunded"]  # Gumroad drops nil values

    fields = sale_fields(api_sale)
    event = event_from_fields(fields)

    assert isinstance(event, SaleEvent)
    assert event.sale_id == "FO8TXN-dvxYabdavG97Y-Q=="
    assert event.email == "buyer@example.com", "the purchase's address, as in the ping, not the account's"
    assert event.product.product_id == HANDBOOK_PRODUCT
    assert event.product.short_product_id == "QMGY"
    assert event.product.product_permalink is None, "the API's product_permalink is the short one"
    assert event.seller_id == SELLER_ID
    assert event.sale_timestamp == "2021-01-23T18:24:07Z"
    assert (event.refunded, event.disputed, event.test, event.resource_name) == (False, False, False, "sale")
    assert event.shadowed_keys == ()


def test_membership_fields_carry_the_subscription_and_recurring_charge() -> None:
    event = event_from_fields(sale_fields(membership_sale(recurring_charge=True)))

    assert isinstance(event, SaleEvent)
    assert event.subscription_id == "GazW4_NBcQy-o7Gjjng7lw=="
    assert event.purchase_id == "GazW4_NBcQy-o7Gjjng7lw=="
    assert event.recurring_charge is True
    assert event.shadowed_keys == (), "custom fields stay apart in the API and are not copied"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"refunded": True}, "refunded"),
        ({"chargedback": True}, "chargedback"),
        ({"disputed": True}, "chargedback"),
        ({"is_gift_sender_purchase": True}, "gift_sender_purchase"),
        ({"seller_id": "SomeoneElse00000000000=="}, "other_seller"),
        ({"partially_refunded": True}, None),
        ({"disputed": True, "dispute_won": True}, None),
    ],
)
def test_skip_reasons(changes: dict[str, Any], reason: str | None) -> None:
    assert skip_reason(sale(**changes), seller_id=SELLER_ID) == reason


def test_a_cancelled_membership_still_alive_is_not_skipped() -> None:
    assert skip_reason(membership_sale(cancelled=True, dead=False), seller_id=SELLER_ID) is None
    assert skip_reason(membership_sale(cancelled=True, dead=True), seller_id=SELLER_ID) == "membership_not_alive"


def test_a_run_stops_after_too_many_failures_in_a_row() -> None:
    attempts: list[str] = []

    def fulfil(event: SaleEvent) -> Outcome:
        attempts.append(event.sale_id)
        raise UpstreamUnavailable("Auth0 is down")

    planned = plan([sale(id=f"Sale{index:018d}==") for index in range(MAX_CONSECUTIVE_FAILURES + 5)], seller_id=None)
    report = run(planned, fulfil=fulfil, apply=True)

    assert len(attempts) == MAX_CONSECUTIVE_FAILURES
    assert report.stopped
    assert [result.status for result in report.results] == [FAILED] * MAX_CONSECUTIVE_FAILURES


def test_an_unreadable_sale_fails_alone() -> None:
    def never(event: SaleEvent) -> Outcome:
        raise AssertionError("an unreadable sale is never fulfilled")

    report = run([Planned(sale(purchase_email=None, email=None))], fulfil=never, apply=True)

    [result] = report.results
    assert result.status == FAILED
    assert "unreadable sale" in result.detail


def test_a_sale_whose_address_auth0_cannot_hold_fails_alone_for_review() -> None:
    def never(event: SaleEvent) -> Outcome:
        raise AssertionError("an address Auth0 cannot hold is never provisioned")

    report = run([Planned(sale(purchase_email="not-an-address", email=None))], fulfil=never, apply=True)

    [result] = report.results
    assert result.status == FAILED
    assert "unusable buyer address" in result.detail


def test_a_transient_gumroad_failure_is_retried_for_reads() -> None:
    naps: list[float] = []
    api = GumroadApi(access_token=ACCESS_TOKEN, sleep=naps.append)
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, SALES, status=503, body="")
        last = fixture("sales_page_last.json")
        last["sales"] = [sale()]
        mock.add(responses.GET, SALES, json=last)

        assert list(api.sales_pages(product_id=HANDBOOK_PRODUCT)) == [[sale()]]

    assert naps == [1.0]


def test_a_cursor_that_repeats_is_stopped() -> None:
    api = GumroadApi(access_token=ACCESS_TOKEN, sleep=lambda seconds: None)
    looping = fixture("sales_page_first.json")
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, SALES, json=looping)

        with pytest.raises(GumroadApiError, match="same next_page_key twice"):
            list(api.sales_pages(product_id=HANDBOOK_PRODUCT))
