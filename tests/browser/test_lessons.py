"""A buyer's lessons in a real browser: read the text, play the video, download the file; a refund takes them away;
a URL that expired under the open page is renewed without a reload; a lesson's HTML runs nothing.

Everything is real and on 127.0.0.1: the sandbox, the app under `chalice local`, the local S3 endpoint (which
checks every signature and expiry, its bucket seeded from content/), the SPA built by Vite, Debian's Chromium.
Lesson URLs live LESSON_URL_LIFETIME_SECONDS here, so that one expires while a test watches.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import requests
from playwright.sync_api import Request, Response, Route, expect

from sandbox.defaults import LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS
from tests.browser.stack import Stack
from tests.browser.student import STEP_TIMEOUT_MS, Student
from tests.browser.test_student_journeys import HANDBOOK, buy, new_buyer_with_password, refund
from tests.integration.harness import ROOT, new_sale_id

CONTENT = ROOT / "content" / "serverless-handbook"
TEXT, FILE, VIDEO = 'What "serverless" means', "Deployment checklist", "Cold starts"
COURSE_PATH = "/courses/serverless-handbook"


class CourseAnswers:
    """Every GET /courses/serverless-handbook answer the page received: the lessons it was handed."""

    def __init__(self, student: Student) -> None:
        self.lessons: list[list[dict[str, Any]]] = []
        student.page.on("response", self._seen)

    def _seen(self, response: Response) -> None:
        if response.url.endswith(COURSE_PATH) and response.request.method == "GET" and response.status == 200:
            self.lessons.append(response.json()["lessons"])

    def latest(self, lesson_id: str) -> dict[str, Any]:
        assert self.lessons, "the page has not read the course"
        return next(lesson for lesson in self.lessons[-1] if lesson["id"] == lesson_id)


def s3_error(response: requests.Response) -> tuple[str, str]:
    root = ElementTree.fromstring(response.content)  # noqa: S314 - the local endpoint's own answer
    return root.findtext("Code") or "", root.findtext("Message") or ""


def wait_until_past(expires_at: str) -> None:
    moment = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
    time.sleep(max(0.0, moment - time.time()) + 1.5)


def signed_in_buyer(stack: Stack, student: Student, buyer: str) -> str:
    sale_id = new_sale_id()
    new_buyer_with_password(stack, student, buyer, sale_id)
    student.sign_in(buyer, "correct horse battery staple")
    student.expect_courses([HANDBOOK])
    return sale_id


def test_a_buyer_reads_plays_and_downloads_each_lesson_and_a_refund_takes_them_all_away(
    stack: Stack, student: Student
) -> None:
    answers = CourseAnswers(student)
    sale_id = signed_in_buyer(stack, student, "browser-lessons@example.com")
    student.open_course(HANDBOOK)

    assert student.lesson_titles() == [TEXT, FILE, VIDEO]
    lesson = student.text_lesson(TEXT)
    expect(lesson.get_by_role("heading", name=TEXT)).to_be_visible(timeout=STEP_TIMEOUT_MS)
    student.shots.take(student.page, "text-lesson")

    student.open_lesson(FILE)
    student.shots.take(student.page, "file-lesson")
    download = student.download_lesson(FILE)
    assert download.suggested_filename == "02-deployment-checklist.pdf"
    assert Path(download.path()).read_bytes() == (CONTENT / "02-deployment-checklist.pdf").read_bytes()

    student.open_lesson(VIDEO)
    student.play_video()
    student.shots.take(student.page, "video-playing")

    # What the page was handed: replayed after its expiry, or with one character of its signature changed, the
    # local S3 endpoint refuses it as S3 does.
    handed = answers.latest("cold-starts")["url"]
    at = handed.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    forged = handed[:at] + ("0" if handed[at] != "0" else "1") + handed[at + 1 :]
    changed = requests.get(forged, timeout=10)
    assert (changed.status_code, s3_error(changed)[0]) == (403, "SignatureDoesNotMatch")

    refund(stack, "browser-lessons@example.com", sale_id)
    refunded_at = time.monotonic()
    locked = student.page.get_by_test_id("course-locked")
    while not locked.is_visible() and time.monotonic() < refunded_at + LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS:
        student.come_back_to_tab()
        student.page.wait_for_timeout(1_000)
    expect(locked).to_contain_text("Access removed", timeout=1)
    expect(student.page.get_by_role("list", name="Lessons")).to_have_count(0)
    expect(student.page.locator("video")).to_have_count(0)
    student.shots.take(student.page, "lessons-gone")

    wait_until_past(answers.latest("cold-starts")["expires_at"])
    expired = requests.get(handed, timeout=10)
    assert (expired.status_code, s3_error(expired)) == (403, ("AccessDenied", "Request has expired"))


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
    wait_until_past(answers.latest("cold-starts")["expires_at"])
    student.open_lesson(VIDEO)
    student.play_video()
    assert names(refused) == ["03-cold-starts.webm"]

    # A text lesson opened after its URL expired: the fetch is refused, the lesson renews and shows.
    wait_until_past(answers.latest("what-serverless-means")["expires_at"])
    student.open_lesson(FILE)
    student.open_lesson(TEXT)
    expect(student.text_lesson(TEXT).get_by_role("heading", name=TEXT)).to_be_visible(timeout=STEP_TIMEOUT_MS)
    assert names(refused) == ["03-cold-starts.webm", "01-what-serverless-means.html"]

    # A download whose link has expired: the click renews it first, and the browser saves the file.
    wait_until_past(answers.latest("deployment-checklist")["expires_at"])
    reads = len(answers.lessons)
    student.open_lesson(FILE)
    download = student.download_lesson(FILE)

    assert Path(download.path()).read_bytes() == (CONTENT / "02-deployment-checklist.pdf").read_bytes()
    assert len(answers.lessons) == reads + 1, "the click read the course once for a fresh link"
    assert names(refused) == ["03-cold-starts.webm", "01-what-serverless-means.html"], "the expired link was not used"
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


def test_a_text_lesson_is_shown_but_never_run_and_cannot_reach_the_page(stack: Stack, student: Student) -> None:
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
