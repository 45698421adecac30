"""How one variable is read: COURSES_FILE, resolved inside the app directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.config.environment import resolve_courses_file
from chalicelib.errors import ConfigurationError

APP_DIR = Path("/var/task")


# --- COURSES_FILE ----------------------------------------------------------------------------------


def courses_file_error(value: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        resolve_courses_file({"COURSES_FILE": value}, app_dir=APP_DIR)
    return str(caught.value)


def test_the_courses_file_defaults_to_the_catalogue_in_chalicelib() -> None:
    assert resolve_courses_file({}, app_dir=APP_DIR) == str(APP_DIR / "chalicelib" / "courses.json")


def test_the_courses_file_is_resolved_relative_to_the_app_directory() -> None:
    resolved = resolve_courses_file({"COURSES_FILE": "config/courses.json"}, app_dir=APP_DIR)

    assert resolved == str(APP_DIR / "config" / "courses.json")


def test_an_absolute_courses_file_is_refused() -> None:
    message = courses_file_error("/etc/courses.json")

    assert message == "COURSES_FILE must be relative to the app directory"


def test_a_courses_file_outside_the_app_directory_is_refused() -> None:
    message = courses_file_error("../../etc/courses.json")

    assert message == "COURSES_FILE must stay inside the app directory (only it is deployed)"
