"""Passwordless codes without HTTP: six digits, five minutes, three tries, one live code per address."""

from __future__ import annotations

import pytest

from sandbox.tenant.passwordless import CODE_LIFETIME_SECONDS, CodeRejected, PasswordlessCodes


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_code_is_six_digits_and_expires_after_five_minutes() -> None:
    clock = Clock()
    codes = PasswordlessCodes(clock=clock)
    code, expires_at = codes.issue("a@example.com")

    assert len(code) == 6
    assert code.isdigit()
    assert expires_at == clock.now + CODE_LIFETIME_SECONDS == clock.now + 300
    clock.now += 301
    with pytest.raises(CodeRejected, match="expired"):
        codes.redeem("a@example.com", code)


def test_a_code_just_inside_its_five_minutes_still_works_and_only_once() -> None:
    clock = Clock()
    codes = PasswordlessCodes(clock=clock)
    code, _ = codes.issue("a@example.com")
    clock.now += 299

    codes.redeem("a@example.com", code)
    with pytest.raises(CodeRejected):
        codes.redeem("a@example.com", code)


def test_a_new_code_replaces_the_old_one() -> None:
    codes = PasswordlessCodes(clock=Clock())
    old, _ = codes.issue("a@example.com")
    new, _ = codes.issue("a@example.com")
    if old == new:  # one in a million: the test says nothing then
        pytest.skip("the two random codes are equal")
    with pytest.raises(CodeRejected):
        codes.redeem("a@example.com", old)
    codes.redeem("a@example.com", new)


def test_a_code_is_for_its_own_address_only() -> None:
    codes = PasswordlessCodes(clock=Clock())
    code, _ = codes.issue("a@example.com")
    with pytest.raises(CodeRejected):
        codes.redeem("b@example.com", code)


def test_the_third_wrong_code_ends_it_and_says_so() -> None:
    codes = PasswordlessCodes(clock=Clock())
    code, _ = codes.issue("a@example.com")
    wrong = "000000" if code != "000000" else "111111"
    left = []
    for _ in range(3):
        with pytest.raises(CodeRejected) as rejected:
            codes.redeem("a@example.com", wrong)
        left.append(rejected.value.tries_left)

    assert left == [2, 1, 0]
    with pytest.raises(CodeRejected):
        codes.redeem("a@example.com", code)
