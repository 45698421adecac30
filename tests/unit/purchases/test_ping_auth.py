"""Who may send a ping: the shared secret (Basic password or ``token``) and the seller check."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.errors import MalformedPing, PingForbidden, PingUnauthorized
from chalicelib.purchases.events import PingEvent, SaleEvent, UnhandledEvent
from chalicelib.purchases.gumroad import parse_ping
from chalicelib.purchases.ping_auth import authenticate_ping, check_seller, presented_secrets

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad"
SECRET = "q8Zr3mV7-ping-secret-current"
PREVIOUS_SECRET = "c41Lw0Ya-ping-secret-previous"
SELLER_ID = "kL0psVL2admJSYRNs-OCMg=="


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def recorded_event(name: str) -> PingEvent:
    body = (FIXTURES / name).read_bytes()
    return parse_ping("application/x-www-form-urlencoded", body)


def recorded_sale(name: str = "sale.form") -> SaleEvent:
    event = recorded_event(name)
    assert isinstance(event, SaleEvent)
    return event


def authenticate(authorization: str | None, tokens: list[str], accepted: tuple[str, ...] = (SECRET,)) -> None:
    authenticate_ping(presented_secrets(authorization, tokens), accepted)


# --- presenting the secret ------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["gumroad", "", "someone-else"])
def test_the_basic_password_is_accepted_whatever_the_user_name(user: str) -> None:
    assert presented_secrets(basic(user, SECRET), []) == [SECRET]
    authenticate(basic(user, SECRET), [])


def test_a_password_containing_colons_is_kept_whole() -> None:
    assert presented_secrets(basic("gumroad", "a:b:c"), []) == ["a:b:c"]


def test_the_basic_scheme_name_is_case_insensitive() -> None:
    authenticate(basic("gumroad", SECRET).replace("Basic", "basic"), [])


def test_the_token_query_parameter_is_accepted() -> None:
    assert presented_secrets(None, [SECRET]) == [SECRET]
    authenticate(None, [SECRET])


def test_the_secret_presented_both_ways_is_accepted() -> None:
    assert presented_secrets(basic("gumroad", SECRET), [SECRET]) == [SECRET, SECRET]
    authenticate(basic("gumroad", SECRET), [SECRET])


@pytest.mark.parametrize(
    ("authorization", "tokens"),
    [
        (basic("gumroad", "not-the-secret"), []),
        (None, ["not-the-secret"]),
        (basic("gumroad", SECRET[:-1]), []),
        (basic("gumroad", SECRET + "x"), []),
        (basic("gumroad", ""), []),
        (None, [""]),
        (basic(SECRET, "wrong"), []),
    ],
    ids=["basic", "token", "prefix", "longer", "empty-password", "empty-token", "secret-as-user-name"],
)
def test_a_wrong_secret_is_unauthorized(authorization: str | None, tokens: list[str]) -> None:
    with pytest.raises(PingUnauthorized, match="the ping secret is wrong"):
        authenticate(authorization, tokens)


def test_a_missing_secret_is_unauthorized() -> None:
    with pytest.raises(PingUnauthorized, match="the ping secret is missing"):
        authenticate(None, [])


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {SECRET}", f"Token {SECRET}", SECRET, "Digest username=gumroad"],
)
def test_a_scheme_other_than_basic_is_unauthorized(authorization: str) -> None:
    with pytest.raises(PingUnauthorized):
        presented_secrets(authorization, [SECRET])


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"gumroad:" + SECRET.encode())[:-2].decode(),
        "Basic " + base64.b64encode(b"gumroad:\xff\xfe").decode(),
    ],
    ids=["not-base64", "bad-padding", "not-utf-8"],
)
def test_undecodable_basic_credentials_are_unauthorized(authorization: str) -> None:
    with pytest.raises(PingUnauthorized, match="cannot be decoded"):
        presented_secrets(authorization, [])


@pytest.mark.parametrize(
    "authorization",
    ["Basic " + base64.b64encode(SECRET.encode()).decode(), "Basic", "Basic "],
    ids=["secret-without-colon", "no-credentials", "blank-credentials"],
)
def test_basic_credentials_without_a_colon_are_unauthorized(authorization: str) -> None:
    with pytest.raises(PingUnauthorized, match="carry no password"):
        presented_secrets(authorization, [])


@pytest.mark.parametrize(
    ("authorization", "tokens"),
    [
        (basic("gumroad", SECRET), ["not-the-secret"]),
        (basic("gumroad", "not-the-secret"), [SECRET]),
        (None, [SECRET, "not-the-secret"]),
        (None, ["not-the-secret", SECRET]),
    ],
)
def test_two_presented_secrets_where_one_is_wrong_are_unauthorized(
    authorization: str | None, tokens: list[str]
) -> None:
    with pytest.raises(PingUnauthorized, match="the ping secret is wrong"):
        authenticate(authorization, tokens)


def test_the_previous_secret_is_accepted_during_a_rotation() -> None:
    authenticate(basic("gumroad", PREVIOUS_SECRET), [], accepted=(SECRET, PREVIOUS_SECRET))
    authenticate(None, [SECRET], accepted=(SECRET, PREVIOUS_SECRET))


def test_the_previous_secret_is_refused_once_the_rotation_is_over() -> None:
    with pytest.raises(PingUnauthorized):
        authenticate(basic("gumroad", PREVIOUS_SECRET), [], accepted=(SECRET,))


def test_nothing_is_accepted_when_no_secret_is_configured() -> None:
    with pytest.raises(PingUnauthorized):
        authenticate(basic("gumroad", ""), [], accepted=())


def test_an_unauthorized_error_never_repeats_the_presented_secret() -> None:
    with pytest.raises(PingUnauthorized) as caught:
        authenticate(basic("gumroad", "guess-1234567"), [], accepted=(SECRET,))

    assert "guess-1234567" not in str(caught.value)
    assert SECRET not in str(caught.value)


def counting_compare_digest(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    """Replace hmac.compare_digest, as ping_auth sees it, with a recording wrapper that delegates."""
    calls: list[tuple[bytes, bytes]] = []
    original: Callable[[bytes, bytes], bool] = hmac.compare_digest

    def recording(left: bytes, right: bytes) -> bool:
        calls.append((left, right))
        return original(left, right)

    monkeypatch.setattr("chalicelib.purchases.ping_auth.hmac.compare_digest", recording)
    return calls


def test_secrets_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting_compare_digest(monkeypatch)

    authenticate(basic("gumroad", SECRET), [])
    with pytest.raises(PingUnauthorized):
        authenticate(basic("gumroad", "wrong"), [])

    assert len(calls) >= 2
    # Fixed-length digests, so the comparison time does not depend on the secret's length.
    assert {len(left) for left, _ in calls} == {32}
    assert {len(right) for _, right in calls} == {32}


def test_every_accepted_secret_is_compared_even_after_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting_compare_digest(monkeypatch)

    authenticate(None, [SECRET], accepted=(SECRET, PREVIOUS_SECRET))

    assert len(calls) == 2


def test_the_seller_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting_compare_digest(monkeypatch)

    check_seller(recorded_sale(), SELLER_ID)

    assert calls == [(SELLER_ID.encode(), SELLER_ID.encode())]


# --- the seller ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sale.form", "refund.form", "test_ping.form", "sale_with_variants.form"])
def test_a_sale_type_event_of_the_configured_seller_passes(name: str) -> None:
    check_seller(recorded_event(name), SELLER_ID)


@pytest.mark.parametrize("name", ["sale.form", "refund.form", "test_ping.form"])
def test_a_sale_type_event_of_another_seller_is_forbidden(name: str) -> None:
    with pytest.raises(PingForbidden, match="another Gumroad seller"):
        check_seller(recorded_event(name), "aN0therSeLLer1dXXXXXXXX==")


def test_a_seller_id_differing_only_in_case_is_forbidden() -> None:
    with pytest.raises(PingForbidden):
        check_seller(recorded_sale(), SELLER_ID.lower())


def test_a_sale_without_seller_id_is_malformed_when_a_seller_is_configured() -> None:
    body = (FIXTURES / "refund.form").read_bytes()
    without_seller = body.replace(b"seller_id=kL0psVL2admJSYRNs-OCMg%3D%3D&", b"", 1)
    assert without_seller != body
    sale = parse_ping("application/x-www-form-urlencoded", without_seller)
    assert isinstance(sale, SaleEvent)
    assert sale.seller_id is None

    with pytest.raises(MalformedPing, match="seller_id is missing"):
        check_seller(sale, SELLER_ID)


def test_a_subscription_event_passes_without_a_seller_id() -> None:
    check_seller(recorded_event("cancellation.form"), SELLER_ID)


def test_an_unhandled_event_passes_the_seller_check() -> None:
    check_seller(UnhandledEvent(resource_name="purchase_updated", retry_count=0), SELLER_ID)


@pytest.mark.parametrize(
    "event",
    [
        replace(recorded_sale(), seller_id="aN0therSeLLer1dXXXXXXXX=="),
        replace(recorded_sale(), seller_id=None),
        recorded_event("cancellation.form"),
    ],
    ids=["other-seller", "no-seller", "subscription"],
)
def test_with_no_configured_seller_any_event_passes(event: PingEvent) -> None:
    check_seller(event, None)
