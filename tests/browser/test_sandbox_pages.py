"""The sandbox's own pages in a real browser: the outbox's links, as a student clicks them in a mail client."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.stack import Stack
from tests.browser.student import Student
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
