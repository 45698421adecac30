"""Signing out in one tab signs the student out in every other tab of the app: two pages of one browser context (one
student, one browser), each holding its own tokens in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CspViolations
from tests.browser.stack import Stack
from tests.browser.student import STEP_TIMEOUT_MS, Student
from tests.browser.test_student_journeys import HANDBOOK, PASSWORD, new_buyer_with_password
from tests.integration.harness import new_sale_id


@pytest.fixture
def other_tab(student: Student) -> Iterator[Student]:
    """A second tab of the student's browser: same cookies, its own page and its own in-memory tokens."""
    opened = student.page.context.new_page()
    refused = CspViolations()
    opened.on("console", refused)
    yield Student(page=opened, spa_url=student.spa_url, shots=student.shots)
    assert refused.messages == [], "the other tab broke its Content-Security-Policy"


def test_signing_out_in_one_tab_shows_every_other_tab_signed_out(
    stack: Stack, student: Student, other_tab: Student
) -> None:
    buyer = "browser-two-tabs@example.com"
    new_buyer_with_password(stack, student, buyer, new_sale_id())
    student.sign_in(buyer, PASSWORD)
    student.expect_courses([HANDBOOK])
    # The second tab signs in silently from the tenant's session cookie, and opens the course there.
    other_tab.open_app()
    other_tab.expect_signed_in_as(buyer)
    other_tab.expect_courses([HANDBOOK])
    other_tab.open_course(HANDBOOK)

    student.sign_out()

    other_tab.expect_signed_out()
    expect(other_tab.page.get_by_role("status")).to_have_text("You signed out in another tab.")
    other_tab.shots.take(other_tab.page, "other-tab-signed-out")
    # The tenant's session went with the first tab's sign-out: signing in here asks for the password again.
    other_tab.page.get_by_role("button", name="Sign in").click()
    expect(other_tab.page.get_by_label("Password", exact=True)).to_be_visible(timeout=STEP_TIMEOUT_MS)
