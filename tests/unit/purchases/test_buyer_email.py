"""Buyer addresses: what Auth0 can hold, in one spelling per mailbox."""

from __future__ import annotations

import pytest

from chalicelib.errors import InvalidEmail
from chalicelib.purchases.buyer_email import normalise_email


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("customer@example.com", "customer@example.com"),
        ("  Customer@Example.COM ", "customer@example.com"),
        ("first.last+course@mail.example.co.uk", "first.last+course@mail.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("ana@exämple.com", "ana@xn--exmple-cua.com"),
        ("ana@EXÄMPLE.com", "ana@xn--exmple-cua.com"),
        ("ana@xn--exmple-cua.com", "ana@xn--exmple-cua.com"),
        ("josé@example.com", "josé@example.com"),
    ],
)
def test_addresses_auth0_can_hold_are_normalised(raw: str, normalised: str) -> None:
    assert normalise_email(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("fuzz@example.com\x00", "invisible_or_control_character"),
        ("fu\x07zz@example.com", "invisible_or_control_character"),
        ("a@example.com\r\nBcc: b@example.com", "invisible_or_control_character"),
        ("zero\u200bwidth@example.com", "invisible_or_control_character"),
        ("rtl\u202e@example.com", "invisible_or_control_character"),
        ("a b@example.com", "invisible_or_control_character"),
        ("<a@b.co>", "invalid_local_part"),
        ('"quoted"@example.com', "invalid_local_part"),
        ("a,b@example.com", "invalid_local_part"),
        (".lead@example.com", "invalid_local_part"),
        ("trail.@example.com", "invalid_local_part"),
        ("two..dots@example.com", "invalid_local_part"),
        ("a@b", "domain_without_dot"),
        ("a@", "not_an_address"),
        ("@example.com", "not_an_address"),
        ("no-at-sign", "not_an_address"),
        ("a@-bad.example.com", "invalid_domain"),
        ("a@bad-.example.com", "invalid_domain"),
        ("a@exa_mple.com", "invalid_domain"),
        ("a@example..com", "invalid_domain"),
        ("a@127.0.0.1", "invalid_domain"),
        ("a@[127.0.0.1]", "invalid_domain"),
        ("a@xn--zz.com", "invalid_domain"),
        ("a@" + "l" * 64 + ".com", "invalid_domain"),
        ("l" * 65 + "@example.com", "local_part_too_long"),
        ("a@" + ".".join(["d" * 60] * 5) + ".com", "too_long"),
    ],
)
def test_addresses_auth0_can_never_hold_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidEmail) as refused:
        normalise_email(raw)

    assert refused.value.reason == reason


def test_a_320_character_address_is_refused() -> None:
    address = "l" * 64 + "@" + ".".join(["d" * 63] * 3) + ".example.com"
    assert len(address) > 254

    with pytest.raises(InvalidEmail):
        normalise_email(address)


def address_of_length(length: int) -> str:
    """A valid address of exactly ``length`` characters: a 64-character local part and labels of at most 63."""
    local = "l" * 64
    last_label = length - len(local) - len("@") - len("d" * 63 + "." + "d" * 63 + ".") - len(".com")
    address = f"{local}@{'d' * 63}.{'d' * 63}.{'d' * last_label}.com"
    assert len(address) == length
    return address


def test_an_address_of_exactly_254_characters_is_accepted() -> None:
    # RFC 5321's path limit (256) less the angle brackets: the longest address a mailbox can have.
    address = address_of_length(254)

    assert normalise_email(address) == address


def test_an_address_of_255_characters_is_too_long() -> None:
    with pytest.raises(InvalidEmail) as refused:
        normalise_email(address_of_length(255))

    assert refused.value.reason == "too_long"


def test_the_limit_counts_the_punycode_form_of_an_internationalised_domain() -> None:
    # 250 characters as typed, more than 254 once the domain is written as Auth0 holds it (xn--...).
    plain = address_of_length(250)
    last_label = plain.rsplit(".", 2)[1]
    typed = plain.replace(f".{last_label}.", f".ä{last_label[1:]}.")
    assert len(typed) == 250

    with pytest.raises(InvalidEmail) as refused:
        normalise_email(typed)

    assert refused.value.reason == "too_long"
