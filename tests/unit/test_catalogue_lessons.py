"""A course's lessons in the catalogue: their order, kinds and keys, and messages naming the course and lesson."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from chalicelib.catalogue import Lesson, load_catalogue, parse_catalogue, prefix_problem
from chalicelib.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
COURSE: dict[str, Any] = {
    "slug": "serverless-handbook",
    "title": "Serverless Handbook",
    "role_id": "rol_abc123",
    "permission": "read:course:serverless-handbook",
    "gumroad_products": ["32-nPAicqbLj8B_WswVlMw=="],
    "lessons": [
        {"id": "what-serverless-means", "title": "What it means", "kind": "text", "key": "serverless-handbook/01.html"},
        {"id": "checklist", "title": "Checklist", "kind": "file", "key": "serverless-handbook/files/checklist.pdf"},
        {"id": "cold-starts", "title": "Cold starts", "kind": "video", "key": "serverless-handbook/03-cold.webm"},
    ],
}


def document(**lesson_changes: Any) -> dict[str, Any]:
    """The catalogue with the first lesson changed (a value of None removes the field)."""
    course = copy.deepcopy(COURSE)
    for name, value in lesson_changes.items():
        if value is None:
            del course["lessons"][0][name]
        else:
            course["lessons"][0][name] = value
    return {"courses": [course]}


def refusal(document: Any) -> str:
    with pytest.raises(ConfigurationError) as raised:
        parse_catalogue(document)
    return raised.value.message


def test_a_courses_lessons_load_in_the_catalogues_order_with_how_each_is_shown() -> None:
    course = parse_catalogue(document()).courses[0]

    assert course.lessons == (
        Lesson("what-serverless-means", "What it means", "text", "serverless-handbook/01.html"),
        Lesson("checklist", "Checklist", "file", "serverless-handbook/files/checklist.pdf"),
        Lesson("cold-starts", "Cold starts", "video", "serverless-handbook/03-cold.webm"),
    )
    assert [lesson.inline_type for lesson in course.lessons] == ["text/html; charset=utf-8", None, "video/webm"]
    assert [lesson.file_name for lesson in course.lessons] == ["01.html", "checklist.pdf", "03-cold.webm"]


def test_a_course_without_lessons_has_none() -> None:
    course = copy.deepcopy(COURSE)
    del course["lessons"]

    assert parse_catalogue({"courses": [course]}).courses[0].lessons == ()


@pytest.mark.parametrize(
    ("kind", "key", "shown_as"),
    [
        ("text", "serverless-handbook/a.HTML", "text/html; charset=utf-8"),
        ("text", "serverless-handbook/notes.txt", "text/plain; charset=utf-8"),
        ("video", "serverless-handbook/a.mp4", "video/mp4"),
        ("file", "serverless-handbook/no-extension", None),
        ("file", "serverless-handbook/slides.key", None),
    ],
)
def test_text_and_video_lessons_are_shown_with_the_type_of_their_extension_files_as_stored(
    kind: str, key: str, shown_as: str | None
) -> None:
    assert parse_catalogue(document(kind=kind, key=key)).courses[0].lessons[0].inline_type == shown_as


WHERE = "course catalogue: course 'serverless-handbook', lesson 'what-serverless-means': "


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "audio"}, WHERE + "kind 'audio' must be one of text, video, file"),
        ({"kind": None}, "course catalogue: course 'serverless-handbook', lessons[0] is missing kind"),
        ({"author": "me"}, "course catalogue: course 'serverless-handbook', lessons[0] has unknown keys ['author']"),
        ({"title": " "}, WHERE + "title must be a non-empty string"),
        ({"id": "Lesson-1"}, "lessons[0]: id 'Lesson-1' must be lower-case letters, digits and hyphens (at most 64)"),
        ({"id": "a/b"}, "lessons[0]: id 'a/b' must be lower-case letters, digits and hyphens"),
        ({"id": "x" * 65}, "must be lower-case letters, digits and hyphens (at most 64)"),
        ({"key": 7}, WHERE + "key must be a non-empty string"),
        ({"key": "pro-membership/01.html"}, "must be a file in the course's folder 'serverless-handbook/'"),
        ({"key": "01.html"}, "key '01.html' must be a file in the course's folder 'serverless-handbook/'"),
        ({"key": "serverless-handbook/"}, "must be a file in the course's folder"),
        ({"key": "/serverless-handbook/01.html"}, "must be a file in the course's folder"),
        ({"key": "serverless-handbook/../pro-membership/01.html"}, "must be plain path segments"),
        ({"key": "serverless-handbook//01.html"}, "must be plain path segments"),
        ({"key": "serverless-handbook/./01.html"}, "must be plain path segments"),
        ({"key": "serverless-handbook/ 01.html"}, "must be plain path segments"),
        ({"key": "serverless-handbook/a\\b.html"}, "must not contain a backslash or a control character"),
        ({"key": "serverless-handbook/a\nb.html"}, "must not contain a backslash or a control character"),
        ({"key": "serverless-handbook/" + "a" * 900 + ".html"}, "is longer than 900 bytes"),
        ({"key": "serverless-handbook/01.pdf"}, WHERE + "a text lesson's key must end in one of .html, .htm, .txt"),
        ({"kind": "video"}, WHERE + "a video lesson's key must end in one of .mp4, .m4v, .webm, .ogv, .mov"),
    ],
)
def test_a_bad_lesson_is_refused_naming_its_course_and_lesson(changes: dict[str, Any], message: str) -> None:
    assert message in refusal(document(**changes))


def test_two_lessons_with_one_id_or_one_key_are_refused() -> None:
    same_id = document()
    same_id["courses"][0]["lessons"][1]["id"] = "what-serverless-means"
    same_key = document()
    same_key["courses"][0]["lessons"][2]["key"] = same_key["courses"][0]["lessons"][0]["key"]
    same_key["courses"][0]["lessons"][2]["kind"] = "text"

    assert refusal(same_id) == WHERE + "another lesson of the course has this id"
    assert refusal(same_key) == (
        "course catalogue: course 'serverless-handbook', lesson 'cold-starts': "
        "another lesson of the course has the key 'serverless-handbook/01.html'"
    )


@pytest.mark.parametrize("lessons", [{}, "lesson.html", None])
def test_lessons_that_are_not_a_list_are_refused(lessons: Any) -> None:
    course = {**copy.deepcopy(COURSE), "lessons": lessons}

    assert refusal({"courses": [course]}) == "course catalogue: course 'serverless-handbook': lessons must be a list"


def test_a_lesson_that_is_not_an_object_is_refused_by_its_position() -> None:
    course = {**copy.deepcopy(COURSE), "lessons": [COURSE["lessons"][0], "checklist.pdf"]}

    message = refusal({"courses": [course]})

    assert message == "course catalogue: course 'serverless-handbook', lessons[1] must be an object"


def test_every_lesson_of_the_local_catalogue_is_a_file_of_the_sample_content() -> None:
    # Only the local stage's catalogue: chalicelib/courses.json is the creator's, whose lessons live in their bucket
    # (filling it in must leave the tests green).
    catalogue = load_catalogue(ROOT / "chalicelib" / "courses.local.json")
    keys = [lesson.key for course in catalogue for lesson in course.lessons]

    for key in keys:
        assert (ROOT / "content" / key).is_file(), key
    shipped = {path.relative_to(ROOT / "content").as_posix() for path in (ROOT / "content").rglob("*.*")}
    assert sorted(keys) == sorted(shipped), "every sample lesson is in the local catalogue, once"
    assert {lesson.kind for course in catalogue for lesson in course.lessons} == {"text", "file", "video"}


@pytest.mark.parametrize(
    ("prefix", "problem"),
    [
        ("", None),
        ("courses/", None),
        ("site/courses-2026/", None),
        ("courses", 'must be empty or end with "/" (a folder, e.g. courses/)'),
        ("courses/*/", 'must be folders of letters, digits, ".", "_" and "-", none empty or starting with "."'),
        ("/courses/", 'must be folders of letters, digits, ".", "_" and "-", none empty or starting with "."'),
        ("../", 'must be folders of letters, digits, ".", "_" and "-", none empty or starting with "."'),
        ("a" * 100 + "/", "must be at most 100 bytes"),
    ],
)
def test_a_content_prefix_is_empty_or_plain_folders(prefix: str, problem: str | None) -> None:
    assert prefix_problem(prefix) == problem
