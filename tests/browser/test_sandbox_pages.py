"""The sandbox's own pages in a real browser: the outbox's links, as a student clicks them in a mail client."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.stack import Stack
from tests.browser.student import STEP_TIMEOUT_MS, Student
from tests.browser.test_student_journeys import HANDBOOK, PASSWORD
from tests.integration.harness import gumroad_body, new_sale_id


def bought(stack: Stack, email: str) -> None:
    """A sale ping, sent again on a 5xx as Gumroad does (a cold `chalice local` on a busy machine can be slow)."""
    body = gumroad_body("sale", email=email, sale_id=new_sale_id())
    for _ in range(3):
        answer = stack.service.ping(body)
        if answer.status_code < 500:
            break
    assert answer.status_code == 200, answer.text


def test_a_buyer_clicks_the_set_password_link_in_the_outbox_page_and_signs_in(stack: Stack, student: Student) -> None:
    buyer = "browser-outbox@example.com"
    bought(stack, buyer)

    student.page.goto(f"{stack.sandbox.base_url}/sandbox/outbox?to={buyer}")
    expect(student.page.get_by_role("heading", name="Outbox")).to_be_visible()
    student.shots.take(student.page, "outbox")
    student.page.get_by_role("link", name="Set a password").click()

    student.choose_password(PASSWORD)
    student.continue_to_sign_in()
    student.sign_in(buyer, PASSWORD, already_there=True)
    student.expect_courses([HANDBOOK])


def test_a_buyer_who_lost_the_e_mail_uses_forgot_password_on_the_login_page_and_signs_in(
    stack: Stack, student: Student
) -> None:
    buyer = "browser-forgot@example.com"
    bought(stack, buyer)  # the set-password e-mail goes out, and is lost
    student.open_app()
    student.expect_signed_out()
    student.page.get_by_role("button", name="Sign in").click()
    expect(student.page.get_by_role("heading", name="Welcome")).to_be_visible(timeout=STEP_TIMEOUT_MS)

    student.page.get_by_role("link", name="Forgot password?").click()
    expect(student.page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    student.page.get_by_label("Email address").fill(buyer)
    student.shots.take(student.page, "forgot-password")
    student.page.get_by_role("button", name="Continue").click()
    expect(student.page.get_by_role("heading", name="Check your email")).to_be_visible()
    student.shots.take(student.page, "check-your-email")
    student.page.get_by_role("link", name="outbox").click()
    student.page.get_by_role("link", name="Set a password").first.click()

    student.choose_password(PASSWORD)
    student.continue_to_sign_in()
    student.sign_in(buyer, PASSWORD, already_there=True)
    student.expect_courses([HANDBOOK])
