"""What the lesson journeys watch and check: the course answers the page received, S3's error answers, the clock."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import requests
from playwright.sync_api import Response

from tests.browser.student import Student
from tests.integration.harness import ROOT

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
    """S3's XML error answer: its Code and Message."""
    root = ElementTree.fromstring(response.content)  # noqa: S314 - the local endpoint's own answer
    return root.findtext("Code") or "", root.findtext("Message") or ""


def with_one_signature_character_changed(url: str) -> str:
    at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    return url[:at] + ("0" if url[at] != "0" else "1") + url[at + 1 :]


def wait_until(expires_at: str, *, margin: float) -> None:
    """Sleep until ``margin`` seconds after ``expires_at`` (a negative margin: before it)."""
    moment = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
    time.sleep(max(0.0, moment + margin - time.time()))
