"""Every way a student signs in opens what they bought (issue 17), in Chromium through the example SPA.

Bought as ``Alice@Example.com`` then Google (verified) or an e-mail code: the course on that very sign-in. Google
(not verified): no course, and the reason. Google first, bought after: the course at the next sign-in, with no
second account made. The squatter (an unverified Google account with a future buyer's address): nothing, while
the buyer gets the course. A refund takes the course from the Google sign-in too: it is the same account.
"""

from __future__ import annotations

import secrets
from typing import Any

import requests
from playwright.sync_api import expect

from tests.browser.stack import Stack
from tests.browser.student import STEP_TIMEOUT_MS, Student
from tests.browser.test_student_journeys import HANDBOOK, PASSWORD, buy, refund
from tests.integration.harness import new_sale_id


def address(name: str) -> str:
    """A fresh address per run (the stack is shared by the whole session), with the casing given."""
    local, domain = name.split("@")
    return f"{local}+{secrets.token_hex(3)}@{domain}"


def users_with(stack: Stack, email: str) -> list[dict[str, Any]]:
    """Every Auth0 user holding this (lower-cased) address, as the Management API lists them."""
    answer = requests.get(
        f"{stack.sandbox.base_url}/api/v2/users-by-email",
        params={"email": email.lower()},
        headers={"Authorization": f"Bearer {stack.sandbox.management_token()}"},
        timeout=10,
    )
    answer.raise_for_status()
    users: list[dict[str, Any]] = answer.json()
    return users


def expect_notice(student: Student, text: str) -> None:
    expect(student.page.get_by_test_id("sign-in-notice")).to_contain_text(text, timeout=STEP_TIMEOUT_MS)


def test_bought_as_alice_at_example_com_then_google_verified_opens_the_course_on_that_sign_in(
    stack: Stack, student: Student
) -> None:
    buyer = address("Alice@Example.com")
    buy(stack, buyer, new_sale_id())

    student.open_app()
    student.expect_signed_out()
    student.continue_with_google(buyer, verified=True)

    student.expect_signed_in_as(buyer.lower())  # the account the purchase made: Google's identity joined it
    student.expect_courses([HANDBOOK])
    student.shots.take(student.page, "my-courses")
    student.open_course(HANDBOOK)
    (holder,) = users_with(stack, buyer)
    assert [identity["provider"] for identity in holder["identities"]] == ["auth0", "google-oauth2"]


def test_bought_then_an_email_code_opens_the_course_on_that_sign_in(stack: Stack, student: Student) -> None:
    buyer = address("Bob@Example.com")
    buy(stack, buyer, new_sale_id())

    student.open_app()
    student.expect_signed_out()
    student.email_me_a_code(buyer, stack.outbox_code)

    student.expect_signed_in_as(buyer.lower())
    student.expect_courses([HANDBOOK])
    student.shots.take(student.page, "my-courses")


def test_google_without_a_verified_address_opens_nothing_and_says_why(stack: Stack, student: Student) -> None:
    buyer = address("carol@example.com")
    buy(stack, buyer, new_sale_id())

    student.open_app()
    student.continue_with_google(buyer, verified=False)

    student.expect_signed_in_as(buyer)
    student.expect_courses([])
    expect_notice(student, "Google has not confirmed")
    student.shots.take(student.page, "unverified")
    assert len(users_with(stack, buyer)) == 2  # the purchase's account and the Google user: never linked


def test_google_first_then_bought_opens_the_course_at_the_next_sign_in_without_a_second_account(
    stack: Stack, student: Student
) -> None:
    buyer = address("dave@example.com")
    student.open_app()
    student.continue_with_google(buyer, verified=True)
    student.expect_courses([])
    student.sign_out()

    buy(stack, buyer, new_sale_id())
    student.continue_with_google(buyer, verified=True)

    student.expect_courses([HANDBOOK])
    student.shots.take(student.page, "my-courses")
    (google,) = users_with(stack, buyer)  # the sale granted the Google user: no database user was made
    assert str(google["user_id"]).startswith("google-oauth2|")


def test_the_squatter_gets_nothing_and_the_buyer_gets_the_course(stack: Stack, student: Student) -> None:
    victim = address("erin@example.com")
    # The squatter signs in first through a connection that does not verify, with the future buyer's address.
    student.open_app()
    student.continue_with_google(victim, verified=False)
    student.expect_courses([])
    student.sign_out()

    buy(stack, victim, new_sale_id())  # the buyer buys

    student.continue_with_google(victim, verified=False)  # the squatter again: still nothing
    student.expect_courses([])
    expect_notice(student, "Google has not confirmed")
    student.shots.take(student.page, "squatter")
    student.sign_out()

    # The buyer: the set-password e-mail went to the mailbox, which only the buyer reads.
    student.set_password(stack.outbox_link(victim), PASSWORD)
    student.continue_to_sign_in()
    student.sign_in(victim, PASSWORD, already_there=True)
    student.expect_courses([HANDBOOK])
    student.shots.take(student.page, "buyer")


def test_a_refund_takes_the_course_from_the_google_sign_in_too(stack: Stack, student: Student) -> None:
    buyer, sale_id = address("frank@example.com"), new_sale_id()
    buy(stack, buyer, sale_id)
    student.open_app()
    student.continue_with_google(buyer, verified=True)
    student.expect_courses([HANDBOOK])

    refund(stack, buyer, sale_id)
    # A fresh token now, rather than the token's natural end (test_student_journeys.py waits for that one): the
    # token the Google sign-in gets is the record holder's, which the refund reached.
    student.page.get_by_role("button", name="Check for new purchases").click()
    expect(student.page.get_by_test_id("access-removed")).to_contain_text(HANDBOOK)
    student.expect_courses([])
    student.shots.take(student.page, "access-removed")
