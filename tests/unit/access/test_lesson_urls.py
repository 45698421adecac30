"""LessonUrls: which object each lesson opens, shown inline or downloaded, for how long, and when it stops."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from chalicelib.access.courses import lesson_by_id
from chalicelib.access.lesson_urls import LessonUrls, SignedLesson, attachment
from chalicelib.aws.presigned_urls import PresignedUrls
from chalicelib.catalogue import Course, Lesson
from chalicelib.errors import UnknownLesson

NOW = datetime(2026, 12, 7, 9, 30, 15, 750_000, tzinfo=UTC).timestamp()
HANDBOOK = Course(
    slug="serverless-handbook",
    title="Serverless Handbook",
    role_id="rol_abc123",
    permission="read:course:serverless-handbook",
    gumroad_products=("32-nPAicqbLj8B_WswVlMw==",),
    lessons=(
        Lesson("what-serverless-means", "What it means", "text", "serverless-handbook/01.html"),
        Lesson("checklist", "Checklist", "file", "serverless-handbook/Checklist 2026.pdf"),
        Lesson("cold-starts", "Cold starts", "video", "serverless-handbook/03.mp4"),
    ),
)


@dataclass
class RecordingSigner:
    """The port as boto3's adapter fills it, recording what it was asked to sign."""

    asked: list[dict[str, object]] = field(default_factory=list)

    def signed_get(self, key: str, *, lifetime_seconds: int, content_type: str | None, content_disposition: str) -> str:
        self.asked.append(
            {"key": key, "lifetime": lifetime_seconds, "type": content_type, "disposition": content_disposition}
        )
        return f"https://bucket.example/{key}?signature={len(self.asked)}"


def lesson_urls(signer: RecordingSigner, *, prefix: str = "courses/", lifetime: int = 300) -> LessonUrls:
    return LessonUrls(signer=signer, prefix=prefix, lifetime_seconds=lifetime, clock=lambda: NOW)


def test_every_lesson_is_signed_in_order_under_the_prefix_and_expires_one_lifetime_from_now() -> None:
    signer = RecordingSigner()

    lessons = lesson_urls(signer).for_course(HANDBOOK)

    assert [lesson.id for lesson in lessons] == ["what-serverless-means", "checklist", "cold-starts"]
    assert [asked["key"] for asked in signer.asked] == [
        "courses/serverless-handbook/01.html",
        "courses/serverless-handbook/Checklist 2026.pdf",
        "courses/serverless-handbook/03.mp4",
    ]
    assert {asked["lifetime"] for asked in signer.asked} == {300}
    # 09:30:15.75 + 300 s, in whole seconds rounded down: never later than the URL's own expiry.
    assert {lesson.expires_at for lesson in lessons} == {"2026-12-07T09:35:15Z"}
    assert lessons[0] == SignedLesson(
        id="what-serverless-means",
        title="What it means",
        kind="text",
        url="https://bucket.example/courses/serverless-handbook/01.html?signature=1",
        expires_at="2026-12-07T09:35:15Z",
    )
    assert lessons[0].as_json() == {
        "id": "what-serverless-means",
        "title": "What it means",
        "kind": "text",
        "url": "https://bucket.example/courses/serverless-handbook/01.html?signature=1",
        "expires_at": "2026-12-07T09:35:15Z",
    }


def test_text_and_video_are_shown_inline_with_their_type_and_a_file_is_downloaded_under_its_name() -> None:
    signer = RecordingSigner()

    lesson_urls(signer).for_course(HANDBOOK)

    assert [(asked["type"], asked["disposition"]) for asked in signer.asked] == [
        ("text/html; charset=utf-8", "inline"),
        (None, "attachment; filename=\"Checklist 2026.pdf\"; filename*=UTF-8''Checklist%202026.pdf"),
        ("video/mp4", "inline"),
    ]


def test_a_course_without_lessons_signs_nothing() -> None:
    signer = RecordingSigner()

    bare = Course(
        slug=HANDBOOK.slug,
        title=HANDBOOK.title,
        role_id=HANDBOOK.role_id,
        permission=HANDBOOK.permission,
        gumroad_products=HANDBOOK.gumroad_products,
    )

    assert lesson_urls(signer).for_course(bare) == []
    assert signer.asked == []


def test_one_lesson_is_found_by_its_id_and_signed_alone_and_an_unknown_id_is_refused() -> None:
    signer = RecordingSigner()
    urls = lesson_urls(signer, prefix="", lifetime=3600)

    lesson = urls.for_lesson(lesson_by_id(HANDBOOK, "cold-starts"))
    with pytest.raises(UnknownLesson):
        lesson_by_id(HANDBOOK, "no-such-lesson")
    with pytest.raises(UnknownLesson):
        lesson_by_id(HANDBOOK, "Cold-Starts")

    assert lesson.url == "https://bucket.example/serverless-handbook/03.mp4?signature=1"
    assert lesson.expires_at == "2026-12-07T10:30:15Z"
    assert signer.asked == [
        {"key": "serverless-handbook/03.mp4", "lifetime": 3600, "type": "video/mp4", "disposition": "inline"}
    ]


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("checklist.pdf", "attachment; filename=\"checklist.pdf\"; filename*=UTF-8''checklist.pdf"),
        (
            "R\u00e9sum\u00e9 \u2013 2026.pdf",
            "attachment; filename=\"R_sum_ _ 2026.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%80%93%202026.pdf",
        ),
        ('say "hi"\\.zip', "attachment; filename=\"say _hi__.zip\"; filename*=UTF-8''say%20%22hi%22%5C.zip"),
    ],
)
def test_a_download_keeps_its_exact_name_for_browsers_that_read_rfc_8187_and_a_safe_one_for_others(
    name: str, header: str
) -> None:
    assert attachment(name) == header
    assert unquote(header.rsplit("''", 1)[1]) == name


def test_the_boto3_adapter_puts_every_decision_into_the_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIATESTEXAMPLE00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-not-a-real-one")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    urls = LessonUrls(
        signer=PresignedUrls(bucket="course-content", region="eu-west-1"), prefix="courses/", lifetime_seconds=120
    )

    text, download, video = urls.for_course(HANDBOOK)

    queries = [{k: v[0] for k, v in parse_qs(urlsplit(lesson.url).query).items()} for lesson in (text, download, video)]
    assert [urlsplit(lesson.url).path for lesson in (text, download, video)] == [
        "/courses/serverless-handbook/01.html",
        "/courses/serverless-handbook/Checklist%202026.pdf",
        "/courses/serverless-handbook/03.mp4",
    ]
    assert [query["X-Amz-Expires"] for query in queries] == ["120", "120", "120"]
    assert queries[0]["response-content-type"] == "text/html; charset=utf-8"
    assert queries[1]["response-content-disposition"].startswith('attachment; filename="Checklist 2026.pdf"')
    assert "response-content-type" not in queries[1]
    assert queries[2]["response-content-type"] == "video/mp4"


def test_a_course_hands_out_its_urls_again_while_half_their_lifetime_is_left_then_signs_anew() -> None:
    signer = RecordingSigner()
    now = [NOW]
    urls = LessonUrls(signer=signer, prefix="", lifetime_seconds=300, clock=lambda: now[0])

    first = urls.for_course(HANDBOOK)
    now[0] = NOW + 150  # exactly half the lifetime left: still handed out
    again = urls.for_course(HANDBOOK)
    now[0] = NOW + 151
    later = urls.for_course(HANDBOOK)

    assert again == first
    assert len(signer.asked) == 6, "signed once, then once more after half the lifetime"
    assert {lesson.expires_at for lesson in later} == {"2026-12-07T09:37:46Z"}
    assert [lesson.url for lesson in later] != [lesson.url for lesson in first]


def test_a_lessons_own_address_always_gets_a_freshly_signed_url() -> None:
    signer = RecordingSigner()
    urls = lesson_urls(signer)
    lesson = lesson_by_id(HANDBOOK, "cold-starts")

    listed = urls.for_course(HANDBOOK)[2]
    opened = urls.for_lesson(lesson)

    assert opened.url != listed.url
    assert opened.expires_at == listed.expires_at == "2026-12-07T09:35:15Z"
    assert len(signer.asked) == 4
