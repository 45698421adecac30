"""Course addresses the SPA must not trust, and a screen that cannot render: a student always sees a page with a
way back, and the access token never goes anywhere but a real course route.

`#/courses/<slug>` comes from the address bar, so anyone can put anything there (a link in an e-mail, a typo).
Everything is real: the sandbox, the app under `chalice local`, the SPA built by Vite, Debian's Chromium.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Request, Route, expect

from chalicelib.catalogue import _SLUG
from tests.browser.stack import Stack
from tests.browser.student import STEP_TIMEOUT_MS, Student
from tests.browser.test_student_journeys import HANDBOOK, PASSWORD, new_buyer_with_password
from tests.integration.harness import new_sale_id

ROUTES_JS = Path(__file__).resolve().parents[2] / "spa" / "src" / "routes.js"
# What a browser cannot decode (a truncated UTF-8 escape), and addresses that are not one course slug: each would
# otherwise send the bearer token to the API's root (`..`), to another path, or ask for a course no catalogue has.
MALFORMED_ESCAPE = "%E0%A4%A"
NOT_SLUGS = [
    "..",
    "%2E%2E",
    ".",
    "..%2Fprivate",
    "Serverless-Handbook",
    "serverless-handbook%3Ffresh%3D1",
    "-x",
    "x" * 65,
]


class ApiRequests:
    """Every request the page sends to the service, in order (the browser's own view, not the service's log)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.urls: list[str] = []

    def __call__(self, request: Request) -> None:
        if request.url.startswith(self.base_url):
            self.urls.append(request.url)

    def other_than_the_list(self) -> list[str]:
        return [url for url in self.urls if url != f"{self.base_url}/courses"]


@pytest.fixture
def api_requests(stack: Stack, student: Student) -> Iterator[ApiRequests]:
    watched = ApiRequests(stack.service.base_url)
    student.page.on("request", watched)
    yield watched
    student.page.remove_listener("request", watched)


def signed_in_buyer(stack: Stack, student: Student, email: str) -> None:
    new_buyer_with_password(stack, student, email, new_sale_id())
    student.sign_in(email, PASSWORD)
    student.expect_courses([HANDBOOK])


def expect_no_such_course(student: Student) -> None:
    expect(student.page.get_by_role("heading", name="No such course", level=1)).to_be_visible(timeout=STEP_TIMEOUT_MS)
    expect(student.page.get_by_role("link", name="My courses")).to_be_visible()


def test_the_spas_slug_rule_is_the_catalogues() -> None:
    # The SPA checks an address against the rule every catalogue slug obeys (chalicelib/catalogue.py), so any
    # course the service can answer for passes, and nothing else is ever requested.
    rule = re.search(r"^const SLUG = /(?P<source>.+)/;$", ROUTES_JS.read_text(encoding="utf-8"), re.MULTILINE)

    assert rule is not None, "spa/src/routes.js declares `const SLUG = /.../;`"
    assert rule.group("source") == _SLUG.pattern


def test_a_course_address_with_a_malformed_escape_shows_no_such_course_and_the_way_back(
    stack: Stack, student: Student, api_requests: ApiRequests
) -> None:
    signed_in_buyer(stack, student, "browser-malformed-slug@example.com")

    # Opened as a link would be: the app starts on this address (a reload; the sign-in session brings the tokens).
    student.page.goto(f"{stack.spa_url}/#/courses/{MALFORMED_ESCAPE}")
    student.page.reload()

    expect_no_such_course(student)
    student.shots.take(student.page, "no-such-course")
    assert api_requests.other_than_the_list() == []

    student.page.get_by_role("link", name="My courses").click()
    student.expect_courses([HANDBOOK])


def test_an_address_that_is_not_a_course_slug_never_reaches_the_api(
    stack: Stack, student: Student, api_requests: ApiRequests
) -> None:
    signed_in_buyer(stack, student, "browser-not-a-slug@example.com")

    for address in NOT_SLUGS:
        student.page.goto(f"{stack.spa_url}/#/courses/{address}")
        expect_no_such_course(student)
        if address == "..":
            student.shots.take(student.page, "dot-dot-is-no-course")
        # A course the student owns, opened next, is still asked for: the page did not stop calling the API.
        student.page.goto(f"{stack.spa_url}/#/courses/serverless-handbook")
        expect(student.page.get_by_role("heading", name=HANDBOOK, level=1)).to_be_visible(timeout=STEP_TIMEOUT_MS)

    assert api_requests.other_than_the_list() == [f"{stack.service.base_url}/courses/serverless-handbook"] * len(
        NOT_SLUGS
    )


def test_a_screen_that_cannot_render_shows_what_happened_and_the_way_back(
    stack: Stack, student: Student, api_requests: ApiRequests
) -> None:
    signed_in_buyer(stack, student, "browser-render-error@example.com")
    course_url = f"{stack.service.base_url}/courses/serverless-handbook"

    def title_that_is_not_text(route: Route) -> None:
        # The real service's answer (its CORS headers included), with a title the course screen cannot render:
        # what a changed API or a meddling proxy could send. React throws while rendering it.
        answer = route.fetch()
        body = {**answer.json(), "title": {"text": HANDBOOK}}
        route.fulfill(response=answer, body=json.dumps(body))

    student.page.route(course_url, title_that_is_not_text)
    student.page.get_by_role("link", name=f"Open {HANDBOOK}").click()

    problem = student.page.get_by_role("alert")
    expect(problem.get_by_role("heading", name="Something went wrong on this page")).to_be_visible(
        timeout=STEP_TIMEOUT_MS
    )
    # What happened, in words: no exception text, no stack trace.
    assert "Objects are not valid" not in student.page.inner_text("body")
    assert not re.search(r"\bat \w+ \(", student.page.inner_text("body"))
    student.shots.take(student.page, "something-went-wrong")

    student.page.unroute(course_url)
    problem.get_by_role("button", name="Back to my courses").click()
    student.expect_courses([HANDBOOK])
    student.open_course(HANDBOOK)
