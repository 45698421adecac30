"""Gumroad pings as they arrive (recorded form bodies and their variations) turned into events."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest

from chalicelib.errors import MalformedPing, UnsupportedMediaType
from chalicelib.purchases.events import PingEvent, ProductKeys, SaleEvent, SubscriptionEvent, UnhandledEvent
from chalicelib.purchases.gumroad import MAX_BODY_BYTES, MAX_FIELD_DEPTH, decode_body, decode_form, parse_ping

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
RECORDED = sorted(path.name for path in FIXTURES.glob("*.form"))

SELLER_ID = "kL0psVL2admJSYRNs-OCMg=="
PENCIL = ProductKeys(
    product_id="32-nPAicqbLj8B_WswVlMw==",
    permalink="pencil",
    short_product_id="QMGY",
    product_permalink="https://sahil.gumroad.com/l/pencil",
)
PENCIL_SALE = SaleEvent(
    resource_name="sale",
    sale_id="FO8TXN-dbxYaBdahG97Y-Q==",
    seller_id=SELLER_ID,
    product=PENCIL,
    email="customer@example.com",
    full_name=None,
    subscription_id=None,
    sale_timestamp="2021-01-05T19:38:56Z",
    refunded=False,
    disputed=False,
    dispute_won=False,
    test=False,
    gift=False,
    recurring_charge=False,
    retry_count=0,
    shadowed_keys=(),
)
MEMBERSHIP_SALE = SaleEvent(
    resource_name="sale",
    sale_id="FO8TXN-dvxYabdavG97Y-Q==",
    seller_id=SELLER_ID,
    product=ProductKeys(
        product_id="8RhOl0SwGgLXJ0CXvRMUrQ==",
        permalink="pro",
        short_product_id="XCBbJ",
        product_permalink="https://sahil.gumroad.com/l/pro",
    ),
    email="calvin@example.com",
    full_name="Calvin Hobbes",
    subscription_id="GazW4_NBcQy-o7Gjjng7lw==",
    sale_timestamp="2021-01-05T19:38:56Z",
    refunded=False,
    disputed=False,
    dispute_won=False,
    test=False,
    gift=False,
    recurring_charge=False,
    retry_count=0,
    shadowed_keys=(),
)
CANCELLATION = SubscriptionEvent(
    resource_name="cancellation",
    subscription_id="GazW4_NBcQy-o7Gjjng7lw==",
    product=ProductKeys(product_id="8RhOl0SwGgLXJ0CXvRMUrQ=="),
    email="calvin@example.com",
    purchase_ids=("FO8TXN-dvxYabdavG97Y-Q==", "Q1n8y2n0R3u4aBbCcDdEeA=="),
    occurred_at="2021-03-05T19:38:56Z",
    retry_count=0,
)
# The cancellation's event keys, replaced to turn it into the other subscription events.
CANCELLATION_KEYS = b"cancelled=true&cancelled_at=2021-03-05T19%3A38%3A56Z&cancelled_by_buyer=true"

# Gumroad's JSON bodies (Zapier) carry numbers for these instead of text.
JSON_INTEGER_FIELDS = frozenset({"price", "gumroad_fee", "quantity", "order_number", "shipping_rate"})


def recorded(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_form(body: bytes) -> PingEvent:
    return parse_ping(FORM, body)


def edited(body: bytes, old: bytes, new: bytes) -> bytes:
    """Replace one recorded fragment, failing loudly if the recording no longer has it."""
    assert body.count(old) == 1, old
    return body.replace(old, new)


def without(body: bytes, *raw_keys: bytes) -> bytes:
    """The body with the named fields (as encoded on the wire) removed."""
    pairs = body.split(b"&")
    kept = [pair for pair in pairs if pair.split(b"=", 1)[0] not in raw_keys]
    assert len(kept) == len(pairs) - len(raw_keys), raw_keys
    return b"&".join(kept)


def malformed(body: bytes, content_type: str = FORM) -> str:
    with pytest.raises(MalformedPing) as caught:
        parse_ping(content_type, body)
    return str(caught.value)


def as_json_body(form_body: bytes) -> bytes:
    """The same ping as Gumroad sends it as JSON: nested objects, arrays and native types."""

    def native(key: str, value: str) -> Any:
        if value == "":
            return None
        if value in ("true", "false"):
            return value == "true"
        if key in JSON_INTEGER_FIELDS:
            return int(value)
        return value

    document: dict[str, Any] = {}
    for key, value in parse_qsl(form_body.decode("utf-8"), keep_blank_values=True, strict_parsing=True):
        if key.endswith("[]"):
            document.setdefault(key[:-2], []).append(value)
        elif "[" in key:
            outer, inner = key[:-1].split("[", 1)
            document.setdefault(outer, {})[inner] = native(inner, value)
        else:
            document[key] = native(key, value)
    return json.dumps(document).encode("utf-8")


# --- every recorded body -------------------------------------------------------------------------


def test_the_recorded_bodies_are_all_present() -> None:
    assert RECORDED == [
        "cancellation.form",
        "dispute_gift_giver.form",
        "refund.form",
        "sale.form",
        "sale_gift.form",
        "sale_physical_shipping.form",
        "sale_with_variants.form",
        "test_ping.form",
    ]


@pytest.mark.parametrize("name", RECORDED)
def test_every_recorded_body_parses_into_an_event_with_a_lower_case_address(name: str) -> None:
    event = parse_form(recorded(name))

    assert isinstance(event, SaleEvent | SubscriptionEvent)
    assert event.email == event.email.strip().lower()
    assert event.retry_count == 0


def test_a_recorded_sale_yields_every_field_the_service_reads() -> None:
    assert parse_form(recorded("sale.form")) == PENCIL_SALE


def test_a_recorded_full_refund_is_the_sale_again_marked_refunded() -> None:
    event = parse_form(recorded("refund.form"))

    assert event == replace(PENCIL_SALE, resource_name="refund", refunded=True)


def test_a_recorded_membership_sale_carries_its_subscription_as_the_purchase() -> None:
    event = parse_form(recorded("sale_with_variants.form"))

    assert event == MEMBERSHIP_SALE
    assert isinstance(event, SaleEvent)
    assert event.purchase_id == "GazW4_NBcQy-o7Gjjng7lw=="


def test_a_one_off_sale_is_its_own_purchase() -> None:
    event = parse_form(recorded("sale.form"))

    assert isinstance(event, SaleEvent)
    assert event.purchase_id == "FO8TXN-dbxYaBdahG97Y-Q=="
    assert event.event_name == "sale"


def test_a_recorded_physical_sale_yields_its_buyer_and_product() -> None:
    event = parse_form(recorded("sale_physical_shipping.form"))

    assert event == SaleEvent(
        resource_name="sale",
        sale_id="l9Yx3lP7WJQ3a0bpJg7xCA==",
        seller_id=SELLER_ID,
        product=ProductKeys(
            product_id="vG8hPbGGf7_I4S4mpSFMsw==",
            permalink="Klm",
            short_product_id="Klm",
            product_permalink="https://sahil.gumroad.com/l/Klm",
        ),
        email="edgar@example.com",
        full_name="Edgar Gumstein",
        subscription_id=None,
        sale_timestamp="2024-11-02T08:15:03Z",
        refunded=False,
        disputed=False,
        dispute_won=False,
        test=False,
        gift=False,
        recurring_charge=False,
        retry_count=0,
        shadowed_keys=(),
    )


def test_the_settings_page_test_ping_has_no_resource_name_and_is_a_test() -> None:
    event = parse_form(recorded("test_ping.form"))

    assert event == replace(PENCIL_SALE, resource_name=None, test=True)
    assert event.event_name == "test"


def test_a_recorded_cancellation_links_to_its_purchases() -> None:
    event = parse_form(recorded("cancellation.form"))

    assert event == CANCELLATION
    assert event.event_name == "cancellation"


def test_nested_fields_decode_into_groups_and_keep_blank_values() -> None:
    fields = decode_form(recorded("sale.form").decode("utf-8"))

    assert fields["card"] == {
        "visual": "**** **** **** 4062",
        "type": "visa",
        "bin": "",
        "expiry_month": "",
        "expiry_year": "",
    }
    assert fields["url_params"] == {"campaignid": "c123", "userid": "456", "version": "1.4.5"}
    assert fields["product_name"] == "Pencil Icon PSD"


def test_custom_fields_decode_both_grouped_and_at_the_top_level() -> None:
    fields = decode_form(recorded("sale_with_variants.form").decode("utf-8"))

    assert fields["custom_fields"] == {"Company": "Acme & Sons", "https://example.com/terms": "true"}
    assert fields["Company"] == "Acme & Sons"
    assert fields["https://example.com/terms"] == "true"
    assert fields["variants"] == {"Tier": "Premium"}


def test_shipping_information_decodes_as_a_group() -> None:
    fields = decode_form(recorded("sale_physical_shipping.form").decode("utf-8"))

    assert fields["shipping_information"]["city"] == "Montgomery"
    assert fields["city"] == "Montgomery"


def test_purchase_ids_decode_as_a_list_in_order() -> None:
    fields = decode_form(recorded("cancellation.form").decode("utf-8"))

    assert fields["purchase_ids"] == ["FO8TXN-dvxYabdavG97Y-Q==", "Q1n8y2n0R3u4aBbCcDdEeA=="]


# --- JSON bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RECORDED)
def test_the_same_ping_as_json_with_native_types_gives_the_same_event(name: str) -> None:
    form_body = recorded(name)
    json_body = as_json_body(form_body)

    assert parse_ping(JSON, json_body) == parse_form(form_body)


def test_a_json_body_carries_native_booleans_and_numbers() -> None:
    document = json.loads(as_json_body(recorded("refund.form")))

    # The helper really produces native types; otherwise the test above proves little.
    assert document["refunded"] is True
    assert document["price"] == 500
    assert document["card"]["bin"] is None


def test_a_json_retry_carries_a_numeric_retry_count() -> None:
    document = json.loads(as_json_body(recorded("sale.form")))
    document["retry_count"] = 2

    event = parse_ping(JSON, json.dumps(document).encode("utf-8"))

    assert event == replace(PENCIL_SALE, retry_count=2)


def test_a_json_body_that_is_not_an_object_is_malformed() -> None:
    assert "must be an object" in malformed(b'["sale"]', JSON)


def test_an_undecodable_json_body_is_malformed() -> None:
    assert "JSON body cannot be decoded" in malformed(b'{"resource_name": "sale"', JSON)


def test_a_json_field_with_the_wrong_type_is_malformed() -> None:
    document = json.loads(as_json_body(recorded("sale.form")))
    document["email"] = ["customer@example.com"]

    assert malformed(json.dumps(document).encode("utf-8"), JSON) == "email must be text"


# --- redeliveries --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_a_redelivery_appends_retry_count_as_the_last_key(count: int) -> None:
    event = parse_form(recorded("sale.form") + f"&retry_count={count}".encode())

    assert event == replace(PENCIL_SALE, retry_count=count)


def test_a_redelivered_subscription_event_carries_its_retry_count() -> None:
    event = parse_form(recorded("cancellation.form") + b"&retry_count=1")

    assert event == replace(CANCELLATION, retry_count=1)


@pytest.mark.parametrize("value", [b"-1", b"once", b"1.5"])
def test_a_retry_count_that_is_not_a_whole_number_is_malformed(value: bytes) -> None:
    assert malformed(recorded("sale.form") + b"&retry_count=" + value) == "retry_count must be a whole number"


def test_a_redelivery_without_url_params_is_the_same_sale() -> None:
    body = without(
        recorded("sale.form"),
        b"url_params%5Bcampaignid%5D",
        b"url_params%5Buserid%5D",
        b"url_params%5Bversion%5D",
    )

    assert parse_form(body + b"&retry_count=1") == replace(PENCIL_SALE, retry_count=1)


# --- gifts, renewals, test purchases -----------------------------------------------------------


def test_a_gift_is_addressed_to_the_giftee_not_the_gifter() -> None:
    body = edited(recorded("sale.form"), b"email=customer%40example.com", b"email=giftee%40example.com")
    body = edited(body, b"&price=500&", b"&price=0&")
    body = edited(
        body,
        b"is_gift_receiver_purchase=false",
        b"is_gift_receiver_purchase=true&gift_price=500&gifter_email=gifter%40example.com",
    )

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert event.gift is True
    assert event.email == "giftee@example.com"


def test_a_membership_renewal_is_a_recurring_charge_of_the_same_subscription() -> None:
    body = edited(
        recorded("sale_with_variants.form"),
        b"sale_id=FO8TXN-dvxYabdavG97Y-Q%3D%3D",
        b"sale_id=Q1n8y2n0R3u4aBbCcDdEeA%3D%3D",
    )
    body = edited(body, b"&offer_code=thanks9&", b"&offer_code=thanks9&is_recurring_charge=true&")

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert event.recurring_charge is True
    assert event.sale_id == "Q1n8y2n0R3u4aBbCcDdEeA=="
    assert event.purchase_id == MEMBERSHIP_SALE.purchase_id


def test_a_seller_buying_their_own_product_is_a_test_sale() -> None:
    body = edited(recorded("sale.form"), b"&url_params%5Bcampaignid%5D", b"&test=true&url_params%5Bcampaignid%5D")

    event = parse_form(body)

    assert event == replace(PENCIL_SALE, test=True)


def test_a_disputed_sale_and_a_won_dispute_are_read_from_their_flags() -> None:
    body = edited(
        recorded("refund.form"),
        b"refunded=true&resource_name=refund",
        b"refunded=false&resource_name=dispute",
    )
    dispute = parse_form(edited(body, b"disputed=false", b"disputed=true"))
    won = parse_form(
        edited(
            edited(
                body.replace(b"resource_name=dispute", b"resource_name=dispute_won"),
                b"disputed=false",
                b"disputed=true",
            ),
            b"dispute_won=false",
            b"dispute_won=true",
        )
    )

    assert dispute == replace(PENCIL_SALE, resource_name="dispute", disputed=True)
    assert won == replace(PENCIL_SALE, resource_name="dispute_won", disputed=True, dispute_won=True)


def test_a_partial_refund_is_a_refund_event_with_refunded_false() -> None:
    event = parse_form(edited(recorded("refund.form"), b"refunded=true", b"refunded=false"))

    assert event == replace(PENCIL_SALE, resource_name="refund", refunded=False)


def test_a_boolean_that_is_neither_true_nor_false_is_malformed() -> None:
    body = edited(recorded("refund.form"), b"refunded=true", b"refunded=yes")

    assert malformed(body) == "refunded must be true or false"


# --- custom fields ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "recorded_pair", "typed_value"),
    [
        ("email", b"email=customer%40example.com", b"typed%40example.org"),
        ("product_id", b"product_id=32-nPAicqbLj8B_WswVlMw%3D%3D", b"anything"),
        ("seller_id", b"seller_id=kL0psVL2admJSYRNs-OCMg%3D%3D", b"anything"),
    ],
)
def test_a_custom_field_that_overwrites_a_key_the_service_reads_is_reported(
    name: str, recorded_pair: bytes, typed_value: bytes
) -> None:
    # Gumroad copies custom fields to the top level, replacing the built-in value in place.
    body = edited(recorded("sale.form"), recorded_pair, name.encode() + b"=" + typed_value)
    body = edited(body, b"&ip_country=", b"&custom_fields%5B" + name.encode() + b"%5D=" + typed_value + b"&ip_country=")

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert event.shadowed_keys == (name,)


def test_a_custom_email_field_replaces_the_top_level_email() -> None:
    body = edited(recorded("sale.form"), b"email=customer%40example.com", b"email=typed%40example.org")
    body = edited(body, b"&ip_country=", b"&custom_fields%5Bemail%5D=typed%40example.org&ip_country=")

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert event.shadowed_keys == ("email",)
    assert event.email == "typed@example.org"


def test_custom_fields_that_shadow_nothing_are_not_reported() -> None:
    event = parse_form(recorded("sale_with_variants.form"))

    assert isinstance(event, SaleEvent)
    assert event.shadowed_keys == ()


def test_a_bracket_inside_a_custom_field_name_stays_part_of_the_name() -> None:
    # Gumroad escapes brackets inside a name before encoding the body: %255B, i.e. %5B after one decode.
    body = edited(recorded("sale_with_variants.form"), b"&Company=Acme%20%26%20Sons&", b"&Size%20%255BEU%255D=42&")
    body = edited(
        body,
        b"custom_fields%5BCompany%5D=Acme%20%26%20Sons",
        b"custom_fields%5BSize%20%255BEU%255D%5D=42",
    )

    fields = decode_form(body.decode("utf-8"))

    assert fields["custom_fields"] == {"Size [EU]": "42", "https://example.com/terms": "true"}
    assert fields["Size [EU]"] == "42"
    assert parse_form(body) == MEMBERSHIP_SALE


# --- non-ASCII ----------------------------------------------------------------------------------


def test_non_ascii_product_and_buyer_names_decode_from_utf_8() -> None:
    product_name = "Crème brûlée — 東京 edition"
    full_name = "Zoë Łukasiewicz-Ångström"
    body = edited(
        recorded("sale_physical_shipping.form"),
        b"product_name=Sticker%20pack",
        b"product_name=" + quote(product_name, safe="").encode(),
    )
    body = body.replace(b"Edgar%20Gumstein", quote(full_name, safe="").encode())

    event = parse_form(body)
    fields = decode_form(body.decode("utf-8"))

    assert isinstance(event, SaleEvent)
    assert event.full_name == full_name
    assert fields["product_name"] == product_name
    assert fields["shipping_information"]["full_name"] == full_name


def test_a_non_ascii_custom_field_name_decodes() -> None:
    body = edited(
        recorded("sale_with_variants.form"),
        b"custom_fields%5BCompany%5D=",
        b"custom_fields%5B" + quote("Größe", safe="").encode() + b"%5D=",
    )

    assert "Größe" in decode_form(body.decode("utf-8"))["custom_fields"]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (b"product_name=Pencil\xff", "the body is not valid UTF-8"),
        (b"product_name=Pencil%C3%28", "the form body cannot be decoded"),
    ],
    ids=["raw_byte", "percent_encoded"],
)
def test_a_body_that_is_not_utf_8_is_malformed(broken: bytes, message: str) -> None:
    body = edited(recorded("sale.form"), b"product_name=Pencil", broken)

    assert malformed(body) == message


# --- structural errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "repeated",
    [b"&email=other%40example.com", b"&sale_id=FO8TXN-dbxYaBdahG97Y-Q%3D%3D", b"&card%5Btype%5D=visa"],
)
def test_a_repeated_key_is_malformed(repeated: bytes) -> None:
    assert malformed(recorded("sale.form") + repeated) == "a field appears more than once"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"card%5Bvisual%5D=", b"card%5Bvisual="),
        (b"card%5Bvisual%5D=", b"card%5Bvisual%5D%5D="),
        (b"card%5Bvisual%5D=", b"card%5Bvis%5Bual%5D="),
    ],
)
def test_unbalanced_brackets_in_a_field_name_are_malformed(old: bytes, new: bytes) -> None:
    assert malformed(edited(recorded("sale.form"), old, new)) == "a field name has unbalanced brackets"


def test_a_value_after_a_group_of_the_same_name_is_malformed() -> None:
    assert malformed(recorded("sale.form") + b"&card=visa") == "a field appears more than once"


def test_a_group_after_a_value_of_the_same_name_is_malformed() -> None:
    body = edited(recorded("sale.form"), b"&card%5Bvisual%5D=", b"&card=visa&card%5Bvisual%5D=")

    assert malformed(body) == "a field is sent both as a value and as a group"


def test_a_group_nested_inside_a_list_is_malformed() -> None:
    body = edited(recorded("cancellation.form"), b"purchase_ids%5B%5D=FO8TXN", b"purchase_ids%5B%5D%5Bid%5D=FO8TXN")

    assert malformed(body) == "a field name nests inside a list"


def test_a_body_that_is_not_form_encoding_is_malformed() -> None:
    assert malformed(b"resource_name") == "the form body cannot be decoded"


@pytest.mark.parametrize(
    ("name", "raw_keys", "field"),
    [
        ("sale.form", [b"sale_id"], "sale_id"),
        ("sale.form", [b"email"], "email"),
        ("sale.form", [b"product_id", b"permalink", b"short_product_id", b"product_permalink"], "product_id"),
        ("sale.form", [b"resource_name"], "resource_name"),
        ("refund.form", [b"sale_id"], "sale_id"),
        ("test_ping.form", [b"email"], "email"),
        ("cancellation.form", [b"subscription_id"], "subscription_id"),
        ("cancellation.form", [b"user_email"], "user_email"),
        ("cancellation.form", [b"product_id"], "product_id"),
    ],
)
def test_a_missing_field_the_event_needs_is_malformed_naming_the_field(
    name: str, raw_keys: list[bytes], field: str
) -> None:
    message = malformed(without(recorded(name), *raw_keys))

    assert message.startswith(f"{field} is missing")


def test_an_empty_sale_id_counts_as_missing() -> None:
    body = edited(recorded("sale.form"), b"sale_id=FO8TXN-dbxYaBdahG97Y-Q%3D%3D", b"sale_id=")

    assert malformed(body) == "sale_id is missing"


def test_a_sale_is_matched_by_its_other_product_keys_when_product_id_is_missing() -> None:
    event = parse_form(without(recorded("sale.form"), b"product_id"))

    assert isinstance(event, SaleEvent)
    assert event.product == replace(PENCIL, product_id=None)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        (b"not-an-address", "not_an_address"),
        (b"two%40at%40example.com", "invalid_local_part"),
        (b"a%20b%40example.com", "invisible_or_control_character"),
        (b"fuzz%40example.com%00", "invisible_or_control_character"),
        (b"a%40b", "domain_without_dot"),
    ],
)
def test_an_address_auth0_cannot_hold_is_carried_with_its_problem_not_refused(address: bytes, problem: str) -> None:
    # A well-formed ping about a purchase that needs a human: fulfilment ignores it for review.
    body = edited(recorded("sale.form"), b"email=customer%40example.com", b"email=" + address)

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert event.email_problem == problem


def test_a_ping_without_an_email_is_malformed() -> None:
    assert malformed(without(recorded("sale.form"), b"email")) == "email is missing"


def test_an_internationalised_domain_and_its_punycode_are_one_buyer() -> None:
    unicode_body = edited(recorded("sale.form"), b"email=customer%40example.com", b"email=customer%40ex%C3%A4mple.com")
    punycode_body = edited(
        recorded("sale.form"), b"email=customer%40example.com", b"email=customer%40xn--exmple-cua.com"
    )

    emails = {event.email for event in map(parse_form, (unicode_body, punycode_body)) if isinstance(event, SaleEvent)}

    assert emails == {"customer@xn--exmple-cua.com"}


# --- pathological values: a 400, never a crash -------------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "-1", "1.5", "Infinity", "NaN", "9" * 5000, "0x10"])
def test_a_retry_count_that_is_not_a_small_whole_number_is_malformed_in_a_form(value: str) -> None:
    body = recorded("sale.form") + b"&retry_count=" + value.encode()

    assert malformed(body) == "retry_count must be a whole number"


@pytest.mark.parametrize("value", ["1e400", "1.0", "-3", "true", '"x"', "[1]"])
def test_a_retry_count_of_the_wrong_json_type_is_malformed(value: str) -> None:
    document = json.loads(as_json_body(recorded("sale.form")))
    text = json.dumps(document)[:-1] + f', "retry_count": {value}}}'

    assert malformed(text.encode(), JSON) == "retry_count must be a whole number"


@pytest.mark.parametrize("constant", ["Infinity", "-Infinity", "NaN"])
def test_json_constants_that_are_not_json_are_malformed(constant: str) -> None:
    document = json.loads(as_json_body(recorded("sale.form")))
    text = json.dumps(document)[:-1] + f', "retry_count": {constant}}}'

    assert malformed(text.encode(), JSON) == "the JSON body cannot be decoded"


def test_a_json_integer_longer_than_pythons_conversion_limit_is_malformed() -> None:
    document = json.loads(as_json_body(recorded("sale.form")))
    text = json.dumps(document)[:-1] + ', "price": ' + "7" * 5000 + "}"

    assert malformed(text.encode(), JSON) == "the JSON body cannot be decoded"


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:00:00+05:00",  # shifting to UTC leaves datetime's range
        "9999-12-31T23:00:00-05:00",
        "0999-01-01T00:00:00Z",  # formatted without padding, it would sort after 2024
        "2100-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ],
)
def test_a_timestamp_out_of_range_is_malformed(timestamp: str) -> None:
    body = edited(
        recorded("sale.form"),
        b"sale_timestamp=2021-01-05T19%3A38%3A56Z",
        b"sale_timestamp=" + quote(timestamp).encode(),
    )

    assert malformed(body).startswith("sale_timestamp is")


def test_timestamps_are_written_with_four_digit_years_so_text_order_is_time_order() -> None:
    body = edited(
        recorded("sale.form"),
        b"sale_timestamp=2021-01-05T19%3A38%3A56Z",
        b"sale_timestamp=1970-01-01T01%3A00%3A00%2B01%3A00",
    )

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert event.sale_timestamp == "1970-01-01T00:00:00Z"


def test_an_email_is_trimmed_and_lower_cased() -> None:
    body = edited(recorded("sale.form"), b"email=customer%40example.com", b"email=%20Customer%40Example.COM%20")

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert event.email == "customer@example.com"


def test_an_upper_case_user_email_of_a_subscription_event_is_lower_cased() -> None:
    body = edited(
        recorded("cancellation.form"),
        b"user_email=calvin%40example.com",
        b"user_email=%20Calvin%40Example.COM",
    )

    assert parse_form(body) == CANCELLATION


# --- content type and size ----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", None, "", "multipart/form-data; boundary=x", "application/xml"])
def test_a_content_type_other_than_form_or_json_is_unsupported(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse_ping(content_type, recorded("sale.form"))


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=utf-8",
        "application/x-www-form-urlencoded;charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded",
    ],
)
def test_a_charset_suffix_or_other_casing_of_the_form_type_is_accepted(content_type: str) -> None:
    assert parse_ping(content_type, recorded("sale.form")) == PENCIL_SALE


def test_a_charset_suffix_on_the_json_type_is_accepted() -> None:
    assert parse_ping("application/json; charset=utf-8", as_json_body(recorded("sale.form"))) == PENCIL_SALE


def padded_to(length: int) -> bytes:
    body = recorded("sale.form")
    padding = b"x" * (length - len(body))
    return edited(body, b"referrer=direct", b"referrer=direct" + padding)


def test_a_body_over_the_size_cap_is_malformed() -> None:
    body = padded_to(MAX_BODY_BYTES + 1)

    assert malformed(body) == f"the body is larger than {MAX_BODY_BYTES} bytes"


def test_a_body_exactly_at_the_size_cap_is_parsed() -> None:
    assert parse_form(padded_to(MAX_BODY_BYTES)) == PENCIL_SALE


def test_the_size_cap_is_checked_before_the_content_is_decoded() -> None:
    with pytest.raises(MalformedPing, match="larger than"):
        decode_body(FORM, b"\xff" * (MAX_BODY_BYTES + 1))


def test_an_empty_body_is_malformed() -> None:
    assert malformed(b"").startswith("resource_name is missing")


# --- resources ----------------------------------------------------------------------------------


def test_an_unknown_resource_name_is_an_unhandled_event() -> None:
    body = edited(recorded("sale.form"), b"resource_name=sale", b"resource_name=purchase_updated")

    assert parse_form(body) == UnhandledEvent(resource_name="purchase_updated", retry_count=0)


def test_an_unhandled_event_keeps_its_retry_count_and_a_bounded_name() -> None:
    body = edited(recorded("sale.form"), b"resource_name=sale", b"resource_name=" + b"z" * 200)

    event = parse_form(body + b"&retry_count=2")

    assert event == UnhandledEvent(resource_name="z" * 64, retry_count=2)


def subscription_event(resource_name: str, event_keys: bytes) -> bytes:
    body = edited(
        recorded("cancellation.form"),
        b"resource_name=cancellation",
        b"resource_name=" + resource_name.encode(),
    )
    return edited(body, b"&" + CANCELLATION_KEYS, event_keys)


def test_subscription_ended_carries_its_end_time() -> None:
    body = subscription_event("subscription_ended", b"&ended_at=2021-04-05T19%3A38%3A56Z&ended_reason=cancelled")

    assert parse_form(body) == replace(
        CANCELLATION, resource_name="subscription_ended", occurred_at="2021-04-05T19:38:56Z"
    )


def test_subscription_ended_without_ended_at_is_malformed() -> None:
    body = subscription_event("subscription_ended", b"&ended_reason=failed_payment")

    assert malformed(body) == "ended_at is missing"


def test_subscription_restarted_carries_its_restart_time() -> None:
    body = subscription_event("subscription_restarted", b"&restarted_at=2021-05-01T00%3A00%3A00Z")

    assert parse_form(body) == replace(
        CANCELLATION, resource_name="subscription_restarted", occurred_at="2021-05-01T00:00:00Z"
    )


def test_subscription_restarted_without_restarted_at_is_malformed() -> None:
    assert malformed(subscription_event("subscription_restarted", b"")) == "restarted_at is missing"


def test_subscription_updated_decodes_its_nested_plans() -> None:
    body = subscription_event(
        "subscription_updated",
        b"&type=upgrade&effective_as_of=2021-02-05T19%3A38%3A56Z"
        b"&old_plan%5Btier%5D%5Bid%5D=tier-basic&new_plan%5Btier%5D%5Bid%5D=tier-premium",
    )

    event = parse_form(body)
    fields = decode_form(body.decode("utf-8"))

    assert event == replace(CANCELLATION, resource_name="subscription_updated", occurred_at="2021-02-05T19:38:56Z")
    assert fields["old_plan"] == {"tier": {"id": "tier-basic"}}
    assert fields["new_plan"] == {"tier": {"id": "tier-premium"}}


def test_a_cancellation_without_cancelled_at_is_accepted_with_no_time() -> None:
    body = edited(recorded("cancellation.form"), b"&cancelled_at=2021-03-05T19%3A38%3A56Z", b"")

    assert parse_form(body) == replace(CANCELLATION, occurred_at=None)


def test_a_single_purchase_id_and_blank_ones_are_read_as_a_tuple() -> None:
    body = edited(
        recorded("cancellation.form"),
        b"purchase_ids%5B%5D=Q1n8y2n0R3u4aBbCcDdEeA%3D%3D",
        b"purchase_ids%5B%5D=",
    )

    event = parse_form(body)

    assert isinstance(event, SubscriptionEvent)
    assert event.purchase_ids == ("FO8TXN-dvxYabdavG97Y-Q==",)


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "normalised"),
    [
        (b"2021-03-05T19%3A38%3A56Z", "2021-03-05T19:38:56Z"),
        (b"2021-03-05T20%3A38%3A56%2B01%3A00", "2021-03-05T19:38:56Z"),
        (b"2021-03-05T14%3A38%3A56.123-05%3A00", "2021-03-05T19:38:56Z"),
        (b"2021-03-05T19%3A38%3A56", "2021-03-05T19:38:56Z"),
    ],
)
def test_timestamps_are_normalised_to_utc_seconds(sent: bytes, normalised: str) -> None:
    body = edited(recorded("cancellation.form"), b"cancelled_at=2021-03-05T19%3A38%3A56Z", b"cancelled_at=" + sent)

    event = parse_form(body)

    assert isinstance(event, SubscriptionEvent)
    assert event.occurred_at == normalised


def test_a_sale_timestamp_with_an_offset_is_normalised() -> None:
    body = edited(
        recorded("sale.form"),
        b"sale_timestamp=2021-01-05T19%3A38%3A56Z",
        b"sale_timestamp=2021-01-06T03%3A38%3A56%2B08%3A00",
    )

    assert parse_form(body) == PENCIL_SALE


def test_a_timestamp_that_is_not_iso_8601_is_malformed_naming_the_field() -> None:
    body = edited(recorded("cancellation.form"), b"cancelled_at=2021-03-05T19%3A38%3A56Z", b"cancelled_at=next%20week")

    assert malformed(body) == "cancelled_at is not an ISO 8601 timestamp"


@pytest.mark.parametrize("key", ["abc]", "[abc]", "]"])
def test_a_stray_bracket_in_a_field_name_is_malformed(key: str) -> None:
    body = recorded("sale.form") + b"&" + key.encode() + b"=x"

    assert "unbalanced" in malformed(body)


# --- values Gumroad can never send: control characters, absurd nesting -------------------------


def with_field(body: bytes, name: str, raw_value: str) -> bytes:
    """``body`` with field ``name`` (as decoded) set to ``raw_value``, re-encoded as Gumroad encodes."""
    pairs = [(key, value) for key, value in parse_qsl(body.decode(), keep_blank_values=True) if key != name]
    pairs.append((name, raw_value))
    return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in pairs).encode()


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x08", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f"])
@pytest.mark.parametrize(
    "name",
    [
        "sale_id",
        "seller_id",
        "product_id",
        "permalink",
        "short_product_id",
        "product_permalink",
        "subscription_id",
        "resource_name",
        "retry_count",
    ],
)
def test_a_control_character_in_a_field_the_service_reads_is_malformed(name: str, control: str) -> None:
    original = dict(parse_qsl(recorded("sale_with_variants.form").decode(), keep_blank_values=True))
    value = (original.get(name) or "3") + control

    assert malformed(with_field(recorded("sale_with_variants.form"), name, value)) == (
        f"{name} holds a control character (NUL, ...) that Gumroad never sends"
    )


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x7f"])
def test_nul_or_another_control_in_the_buyers_name_is_malformed(control: str) -> None:
    body = with_field(recorded("sale_physical_shipping.form"), "full_name", f"Edgar{control}Gumstein")

    assert malformed(body) == "full_name holds a control character (NUL, ...) that Gumroad never sends"


def test_the_tab_and_line_breaks_of_a_pasted_name_are_kept() -> None:
    event = parse_form(with_field(recorded("sale_physical_shipping.form"), "full_name", "Edgar\tGum\r\nstein"))

    assert isinstance(event, SaleEvent)
    assert event.full_name == "Edgar\tGum\r\nstein"


def test_nul_in_a_json_ping_is_malformed_too() -> None:
    document = json.loads(as_json_body(recorded("sale.form")))
    document["sale_id"] = "FO8TXN-dbxYaBdahG97Y-Q==\u0000"

    assert malformed(json.dumps(document).encode(), JSON) == (
        "sale_id holds a control character (NUL, ...) that Gumroad never sends"
    )


def test_nul_in_a_subscription_pings_purchase_ids_is_malformed() -> None:
    body = edited(recorded("cancellation.form"), b"purchase_ids%5B%5D=FO8TXN", b"purchase_ids%5B%5D=%00FO8TXN")

    assert malformed(body) == "purchase_ids holds a control character (NUL, ...) that Gumroad never sends"


def test_a_timestamp_with_nul_is_malformed() -> None:
    body = with_field(recorded("sale.form"), "sale_timestamp", "2021-01-05T19:38:56Z\x00")

    assert malformed(body) == "sale_timestamp holds a control character (NUL, ...) that Gumroad never sends"


def test_a_field_name_nested_ten_thousand_levels_deep_is_malformed() -> None:
    body = recorded("sale.form") + b"&a" + b"%5Bb%5D" * 10_000 + b"=x"

    assert malformed(body) == f"a field name nests deeper than {MAX_FIELD_DEPTH} levels"


def test_a_field_name_may_nest_as_deep_as_the_bound_and_no_deeper() -> None:
    at_bound = b"&a" + b"%5Bb%5D" * (MAX_FIELD_DEPTH - 1) + b"=x"
    beyond = b"&a" + b"%5Bb%5D" * MAX_FIELD_DEPTH + b"=x"

    assert parse_form(recorded("sale.form") + at_bound) == PENCIL_SALE
    assert malformed(recorded("sale.form") + beyond) == f"a field name nests deeper than {MAX_FIELD_DEPTH} levels"
    assert MAX_FIELD_DEPTH >= 3, "Gumroad's own old_plan[tier][id] must always parse"


def nested_json(levels: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(as_json_body(recorded("sale.form")))
    value: Any = "x"
    for _ in range(levels - 1):
        value = {"b": value}
    document["a"] = value
    return document


def test_a_json_ping_nested_deeper_than_the_bound_is_malformed() -> None:
    assert parse_ping(JSON, json.dumps(nested_json(MAX_FIELD_DEPTH)).encode()) == PENCIL_SALE
    assert malformed(json.dumps(nested_json(MAX_FIELD_DEPTH + 1)).encode(), JSON) == (
        f"the JSON body nests deeper than {MAX_FIELD_DEPTH} levels"
    )


def test_a_json_ping_nested_ten_thousand_levels_deep_is_malformed() -> None:
    body = b'{"a":' + b"[" * 10_000 + b"]" * 10_000 + b"}"

    assert malformed(body, JSON) == "the JSON body cannot be decoded"


# --- gifts ---------------------------------------------------------------------------------------


def test_a_gifts_sale_ping_names_the_giftee_and_carries_the_givers_address() -> None:
    event = parse_form(recorded("sale_gift.form"))

    assert isinstance(event, SaleEvent)
    assert (event.email, event.gift, event.gifter_email) == ("giftee@example.com", True, "giver@example.com")
    assert event.self_gift is False


@pytest.mark.parametrize("gifter", [b"mallory%40example.com", b"Mallory%40Example.com", b"%20mallory%40example.com"])
def test_a_gift_whose_giver_is_the_giftee_is_a_self_gift(gifter: bytes) -> None:
    body = edited(recorded("sale_gift.form"), b"email=giftee%40example.com", b"email=mallory%40example.com")
    body = edited(body, b"gifter_email=giver%40example.com", b"gifter_email=" + gifter)

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert (event.gifter_email, event.self_gift) == ("mallory@example.com", True)


@pytest.mark.parametrize("gifter", [b"", b"not-an-address"])
def test_a_gifter_address_that_is_missing_or_unreadable_makes_no_self_gift(gifter: bytes) -> None:
    body = edited(recorded("sale_gift.form"), b"gifter_email=giver%40example.com", b"gifter_email=" + gifter)

    event = parse_form(body)

    assert isinstance(event, SaleEvent)
    assert (event.gift, event.gifter_email, event.self_gift) == (True, None, False)


def test_the_givers_dispute_ping_reads_as_a_plain_dispute_of_the_givers_purchase() -> None:
    event = parse_form(recorded("dispute_gift_giver.form"))

    assert isinstance(event, SaleEvent)
    assert (event.resource_name, event.email, event.sale_id) == (
        "dispute",
        "giver@example.com",
        "Gf2Yq8sLp0VbN4cXw7tKmA==",
    )
    assert (event.disputed, event.gift, event.gifter_email, event.self_gift) == (True, False, None, False)
