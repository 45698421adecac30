"""`ops content push`'s decisions without a bucket: what each file becomes, and the lines for the catalogue."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from chalicelib.catalogue import Course, Lesson
from ops.content import (
    CHANGED,
    UNCHANGED,
    Progress,
    Upload,
    catalogue_lines,
    kind_for,
    lesson_id_for,
    plan,
)
from ops.errors import InvalidOption, NotConfigured
from ops.settings import Settings

COURSE = Course(
    slug="serverless-handbook",
    title="Serverless Handbook",
    role_id="rol_abc123",
    permission="read:course:serverless-handbook",
    gumroad_products=("32-nPAicqbLj8B_WswVlMw==",),
    lessons=(Lesson("intro", "Intro", "text", "serverless-handbook/01-intro.html"),),
)


@pytest.mark.parametrize(
    ("key", "lesson_id", "kind"),
    [
        ("serverless-handbook/03-Cold Starts.webm", "cold-starts", "video"),
        ("serverless-handbook/01_what-serverless_means.HTML", "what-serverless-means", "text"),
        ("serverless-handbook/notes.txt", "notes", "text"),
        ("serverless-handbook/2026 Edition.pdf", "edition", "file"),
        ("serverless-handbook/12-2026.zip", "2026", "file"),
        ("serverless-handbook/Ünïcode.mp4", "n-code", "video"),
        ("serverless-handbook/---.bin", "lesson", "file"),
    ],
)
def test_a_file_suggests_an_id_from_its_name_without_its_order_number_and_a_kind_from_its_extension(
    key: str, lesson_id: str, kind: str
) -> None:
    assert lesson_id_for(key) == lesson_id
    assert kind_for(key) == kind


def test_catalogue_lines_list_new_files_once_each_with_ids_unique_in_the_course(tmp_path: Path) -> None:
    uploads = [
        Upload(tmp_path / "a", "serverless-handbook/01-intro.html", "serverless-handbook/01-intro.html", 1, "0"),
        Upload(tmp_path / "b", "serverless-handbook/extra/01-intro.html", "x", 1, "0", CHANGED),
        Upload(tmp_path / "c", "serverless-handbook/02-Intro.pdf", "y", 1, "0", UNCHANGED),
    ]

    lines = catalogue_lines(uploads, COURSE)

    assert [json.loads(line.rstrip(",")) for line in lines] == [
        {"id": "intro-2", "title": "Intro 2", "kind": "text", "key": "serverless-handbook/extra/01-intro.html"},
        {"id": "intro-3", "title": "Intro 3", "kind": "file", "key": "serverless-handbook/02-Intro.pdf"},
    ]


def test_a_plan_puts_each_file_under_the_prefix_in_the_courses_folder_and_leaves_hidden_ones_out(
    tmp_path: Path,
) -> None:
    (tmp_path / "video").mkdir()
    (tmp_path / "video" / "a.webm").write_bytes(b"webm")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_bytes(b"ref")
    (tmp_path / "notes.txt").write_bytes(b"abc")

    planned = plan(tmp_path, course=COURSE, prefix="courses/")

    assert [(u.key, u.object_key, u.size) for u in planned] == [
        ("serverless-handbook/notes.txt", "courses/serverless-handbook/notes.txt", 3),
        ("serverless-handbook/video/a.webm", "courses/serverless-handbook/video/a.webm", 4),
    ]
    assert planned[0].sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_an_empty_folder_or_a_missing_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidOption, match="holds no files to upload"):
        plan(tmp_path, course=COURSE, prefix="")
    with pytest.raises(InvalidOption, match="is not a folder"):
        plan(tmp_path / "missing", course=COURSE, prefix="")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "CONTENT_BUCKET (the content bucket) is not set"),
        ({"CONTENT_BUCKET": "b", "CONTENT_PREFIX": "courses"}, "CONTENT_PREFIX 'courses' must be empty or end with"),
    ],
)
def test_the_bucket_and_prefix_are_checked_as_the_service_checks_them(environ: dict[str, str], message: str) -> None:
    with pytest.raises(NotConfigured, match=re.escape(message)):
        Settings(environ).content_location()


def test_the_progress_on_a_pipe_is_one_line_per_file(tmp_path: Path) -> None:
    stream = io.StringIO()
    uploads = [Upload(tmp_path / "a", "s/a", "s/a", 10, "0"), Upload(tmp_path / "b", "s/b", "s/b", 20, "0", UNCHANGED)]
    progress = Progress(uploads, stream=stream)

    progress.sent(10)
    progress.done(uploads[0])
    progress.done(uploads[1])
    progress.finish()

    assert stream.getvalue() == "content push: 1/2 new s/a\ncontent push: 2/2 unchanged s/b\n"
