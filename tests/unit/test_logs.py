"""What may go into a log line: masked addresses, and an unexpected exception's type and place, never its message."""

from __future__ import annotations

import pytest

from chalicelib.logs import describe_failure, mask_email, mask_url_passwords


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("customer@example.com", "c***r@example.com"),
        ("calvin@example.com", "c***n@example.com"),
        ("abc@example.com", "a***c@example.com"),
        ("ab@example.com", "a***@example.com"),
        ("a@example.com", "a***@example.com"),
        ("first.last+tag@mail.example.co.uk", "f***g@mail.example.co.uk"),
        ("odd@name@example.com", "o***e@example.com"),
    ],
)
def test_an_address_keeps_only_its_first_and_last_letters_and_its_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize("email", [None, "", "not-an-address"])
def test_something_that_is_not_an_address_masks_to_nothing(email: str | None) -> None:
    assert mask_email(email) is None


def test_a_masked_address_never_contains_the_local_part() -> None:
    masked = mask_email("customer@example.com")

    assert masked is not None
    assert "customer" not in masked
    assert "ustome" not in masked


def test_a_failure_is_described_by_its_type_and_place_never_its_message() -> None:
    def parse(body: str) -> None:
        raise ValueError(f"cannot read {body}")

    try:
        parse("customer@example.com sent token abc.def.ghi")
    except ValueError as error:
        described = describe_failure(error)

    assert described.startswith("ValueError at test_logs.py:")
    assert described.endswith(" in parse")
    assert "customer@example.com" not in described
    assert "abc.def.ghi" not in described


def test_a_failure_without_a_traceback_is_its_type() -> None:
    assert describe_failure(KeyError("a secret")) == "KeyError"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "Invalid post URL 'https://gumroad:s3cr3t-ping@api.example.com/gumroad/ping'",
            "Invalid post URL 'https://gumroad:***@api.example.com/gumroad/ping'",
        ),
        ("HTTP://u:p@a.example and http://v:q@b.example/x", "HTTP://u:***@a.example and http://v:***@b.example/x"),
        ("no URL, and https://api.example.com/gumroad/ping", "no URL, and https://api.example.com/gumroad/ping"),
    ],
)
def test_the_password_of_a_url_is_hidden_and_the_rest_of_the_text_kept(text: str, masked: str) -> None:
    assert mask_url_passwords(text) == masked
