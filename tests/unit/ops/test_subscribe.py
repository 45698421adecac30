"""`python -m ops subscribe`: Gumroad resource subscriptions, over recorded API v2 answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
from responses import matchers

from chalicelib import wiring
from ops.__main__ import main as ops
from ops.subscribe import DEFAULT_RESOURCES, mask
from tests.purchase_support import PING_SECRET, set_purchase_env

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad_api"
SUBSCRIPTIONS = "https://api.gumroad.com/v2/resource_subscriptions"
ACCESS_TOKEN = "gumroad-oauth-token-for-tests-Xq9"
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping"
POST_URL = f"https://gumroad:{PING_SECRET}@abc123.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping"
ALL_RESOURCES = (
    "sale",
    "refund",
    "dispute",
    "dispute_won",
    "cancellation",
    "subscription_updated",
    "subscription_ended",
    "subscription_restarted",
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def subscription(resource_name: str, post_url: str, subscription_id: str = "G_-mnBf9b1j9A7a4ub4nFQ==") -> Any:
    item = fixture("resource_subscriptions.json")["resource_subscriptions"][0]
    item.update(id=subscription_id, resource_name=resource_name, post_url=post_url)
    return item


def listing(
    mock: responses.RequestsMock, resource: str, items: list[Any] | None = None, *, this_app_only: bool = False
) -> None:
    body = fixture("resource_subscriptions_empty.json")
    body["resource_subscriptions"] = items or []
    params = {"resource_name": resource}
    if this_app_only:
        params["current_oauth_application_only"] = "true"
    mock.add(responses.GET, SUBSCRIPTIONS, json=body, match=[matchers.query_param_matcher(params)])


def echo_created(request: Any) -> tuple[int, dict[str, str], str]:
    """Gumroad's create answer: the new subscription, as ``ResourceSubscription#as_json``."""
    sent = dict(parse_qsl(request.body))
    body = fixture("resource_subscription_created.json")
    body["resource_subscription"].update(
        id=f"new-{sent['resource_name']}", resource_name=sent["resource_name"], post_url=sent["post_url"]
    )
    return 200, {}, json.dumps(body)


def writes(mock: responses.RequestsMock) -> list[Any]:
    return [call.request for call in mock.calls if call.request.method in ("PUT", "DELETE", "POST", "PATCH")]


@pytest.fixture
def gumroad(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    set_purchase_env(monkeypatch)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", ACCESS_TOKEN)
    wiring.clear_caches()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    wiring.clear_caches()


def output(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert PING_SECRET not in text, "the ping secret must never be printed"
    assert ACCESS_TOKEN not in text, "the access token must never be printed"
    return text


def test_add_is_a_dry_run_that_registers_nothing(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    for resource in DEFAULT_RESOURCES:
        listing(gumroad, resource)

    assert ops(["subscribe", "add", "--url", URL]) == 0

    text = output(capsys)
    assert writes(gumroad) == []
    assert text.count("would register (dry run; add --apply)") == len(DEFAULT_RESOURCES)


def test_add_registers_each_default_resource_with_the_secret_as_userinfo(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    for resource in DEFAULT_RESOURCES:
        listing(gumroad, resource)
    gumroad.add_callback(responses.PUT, SUBSCRIPTIONS, callback=echo_created)

    assert ops(["subscribe", "add", "--url", URL, "--apply"]) == 0

    sent = [dict(parse_qsl(request.body)) for request in writes(gumroad)]
    assert sent == [{"resource_name": resource, "post_url": POST_URL} for resource in DEFAULT_RESOURCES]
    assert "sale" not in {body["resource_name"] for body in sent}, "sale only with --include-sale"
    for request in writes(gumroad):
        assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert ACCESS_TOKEN not in request.url, "the token stays out of URLs"
    text = output(capsys)
    assert text.count("registered") == len(DEFAULT_RESOURCES)
    assert "https://gumroad:***@abc123.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping" in text


def test_add_skips_a_resource_already_registered_for_the_same_url_and_secret(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    for resource in DEFAULT_RESOURCES:
        listing(gumroad, resource, [subscription(resource, POST_URL, "existing-id")] if resource == "refund" else [])
    gumroad.add_callback(responses.PUT, SUBSCRIPTIONS, callback=echo_created)

    assert ops(["subscribe", "add", "--url", URL, "--apply"]) == 0

    registered = [dict(parse_qsl(request.body))["resource_name"] for request in writes(gumroad)]
    assert "refund" not in registered
    assert len(registered) == len(DEFAULT_RESOURCES) - 1
    assert "already registered" in output(capsys)


def test_add_leaves_a_registration_with_an_older_secret_alone_and_says_so(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    old = POST_URL.replace(PING_SECRET, "previous-ping-secret-0001")
    listing(gumroad, "refund", [subscription("refund", old, "old-id")])
    gumroad.add_callback(responses.PUT, SUBSCRIPTIONS, callback=echo_created)

    assert ops(["subscribe", "add", "--url", URL, "--resources", "refund", "--apply"]) == 0

    assert [dict(parse_qsl(request.body))["post_url"] for request in writes(gumroad)] == [POST_URL]
    text = output(capsys)
    assert "also registered with another secret" in text
    assert "previous-ping-secret-0001" not in text


def test_include_sale_subscribes_to_sales_too(gumroad: responses.RequestsMock) -> None:
    for resource in ("sale", "refund"):
        listing(gumroad, resource)
    gumroad.add_callback(responses.PUT, SUBSCRIPTIONS, callback=echo_created)

    assert ops(["subscribe", "add", "--url", URL, "--resources", "refund", "--include-sale", "--apply"]) == 0

    assert [dict(parse_qsl(request.body))["resource_name"] for request in writes(gumroad)] == ["sale", "refund"]


def test_list_shows_every_resource_with_secrets_masked(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    for resource in ALL_RESOURCES:
        items = []
        if resource == "refund":
            items = [subscription("refund", POST_URL, "mine")]
        if resource == "sale":
            items = [subscription("sale", "https://hooks.example.com/in?token=query-secret-77", "theirs")]
        listing(gumroad, resource, items)

    assert ops(["subscribe", "list"]) == 0

    text = output(capsys)
    assert "query-secret-77" not in text
    assert "mine" in text
    assert "theirs" in text
    assert "https://hooks.example.com/in?token=***" in text
    assert len(gumroad.calls) == len(ALL_RESOURCES)


def test_remove_is_a_dry_run_until_applied(gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]) -> None:
    listing(gumroad, "refund", [subscription("refund", POST_URL, "mine")], this_app_only=True)

    assert ops(["subscribe", "remove", "--url", URL, "--resources", "refund"]) == 0

    assert writes(gumroad) == []
    assert "would remove (dry run; add --apply)" in output(capsys)


def test_remove_deletes_this_applications_subscriptions_to_the_url_only(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    listing(
        gumroad,
        "refund",
        [subscription("refund", POST_URL, "mine"), subscription("refund", "https://other.example.com/hook", "other")],
        this_app_only=True,
    )
    gumroad.add(responses.DELETE, f"{SUBSCRIPTIONS}/mine", json=fixture("resource_subscription_deleted.json"))

    assert ops(["subscribe", "remove", "--url", URL, "--resources", "refund", "--apply"]) == 0

    assert [request.url for request in writes(gumroad)] == [f"{SUBSCRIPTIONS}/mine"]
    assert "removed" in output(capsys)


def test_remove_stale_keeps_the_subscription_with_the_current_secret(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    old = POST_URL.replace(PING_SECRET, "previous-ping-secret-0001")
    listing(
        gumroad,
        "refund",
        [subscription("refund", POST_URL, "current"), subscription("refund", old, "stale")],
        this_app_only=True,
    )
    gumroad.add(responses.DELETE, f"{SUBSCRIPTIONS}/stale", json=fixture("resource_subscription_deleted.json"))

    assert ops(["subscribe", "remove", "--url", URL, "--resources", "refund", "--stale", "--apply"]) == 0

    assert [request.url for request in writes(gumroad)] == [f"{SUBSCRIPTIONS}/stale"]
    assert "kept (current secret)" in output(capsys)


def test_a_gumroad_refusal_that_echoes_the_post_url_is_reported_masked(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    listing(gumroad, "refund")
    refusal = fixture("resource_subscription_invalid_post_url.json")
    refusal["message"] = f"Invalid post URL '{POST_URL}'"
    gumroad.add(responses.PUT, SUBSCRIPTIONS, json=refusal)

    assert ops(["subscribe", "add", "--url", URL, "--resources", "refund", "--apply"]) == 2

    assert "Invalid post URL 'https://gumroad:***@abc123" in output(capsys)


def test_a_failed_delete_is_reported(gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]) -> None:
    listing(gumroad, "refund", [subscription("refund", POST_URL, "gone")], this_app_only=True)
    gumroad.add(responses.DELETE, f"{SUBSCRIPTIONS}/gone", json=fixture("resource_subscription_not_found.json"))

    assert ops(["subscribe", "remove", "--resources", "refund", "--apply"]) == 2

    assert "The resource_subscription was not found." in output(capsys)


def test_a_missing_access_token_is_named(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GUMROAD_ACCESS_TOKEN")

    assert ops(["subscribe", "list"]) == 2

    assert "GUMROAD_ACCESS_TOKEN is not set" in output(capsys)
    assert len(gumroad.calls) == 0


def test_a_rejected_access_token_is_reported_without_echoing_it(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, SUBSCRIPTIONS, status=401, body="")

    assert ops(["subscribe", "list", "--resources", "refund"]) == 2

    assert "refused the access token" in output(capsys)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://abc123.example.com/api/gumroad/ping", "https://"),
        ("https://user:pw@abc123.example.com/api/gumroad/ping", "credentials"),
        ("https://localhost/api/gumroad/ping", "public host"),
        ("https://10.0.0.8/api/gumroad/ping", "public host"),
        ("https://abc123.example.com/api/gumroad/ping?token=x", "query"),
        ("https://[abc123.example.com/api/gumroad/ping", "not a valid URL"),
        ("https://abc123.example.com:99999/api/gumroad/ping", "not a valid URL"),
    ],
)
def test_add_refuses_a_url_gumroad_cannot_or_should_not_post_to(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str], url: str, complaint: str
) -> None:
    assert ops(["subscribe", "add", "--url", url]) == 2

    assert complaint in output(capsys)
    assert len(gumroad.calls) == 0


def test_a_ping_secret_that_cannot_travel_in_a_url_is_refused(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUMROAD_PING_SECRET", "has:colon@and-slash/0123456789")
    wiring.clear_caches()
    listing(gumroad, "refund")

    assert ops(["subscribe", "add", "--url", URL, "--resources", "refund", "--apply"]) == 2

    text = capsys.readouterr().err
    assert "URL-safe" in text
    assert "has:colon" not in text
    assert writes(gumroad) == []


def test_unknown_resource_names_are_refused(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ops(["subscribe", "add", "--url", URL, "--resources", "refund,purchase"]) == 2

    assert "purchase" in output(capsys)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://gumroad:s3cret@host.example.com/p", "https://gumroad:***@host.example.com/p"),
        ("https://s3cret@host.example.com/p", "https://***@host.example.com/p"),
        ("https://host.example.com/p?token=s3cret&a=b", "https://host.example.com/p?token=***&a=***"),
        ("https://host.example.com/p", "https://host.example.com/p"),
    ],
)
def test_mask_hides_userinfo_and_query_values(url: str, shown: str) -> None:
    assert mask(url) == shown


def test_a_subscription_request_that_fails_upstream_is_not_repeated(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    listing(gumroad, "refund")
    gumroad.add(responses.PUT, SUBSCRIPTIONS, status=503, body="")

    assert ops(["subscribe", "add", "--url", URL, "--resources", "refund", "--apply"]) == 2

    assert len(writes(gumroad)) == 1, "PUT creates a subscription each time: never retried blindly"
    assert "503" in output(capsys)
