"""Placeholders: the example values a checkout ships with, which must never reach a deployed stage."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# `REPLACE...` is what .chalice/config.json and chalicelib/courses.json ship with; `<...>` is what a
# README command looks like when pasted without filling it in.
_PLACEHOLDER = re.compile(r"REPLACE|^<[^<>]*>$")


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and bool(_PLACEHOLDER.search(value.strip()))


def placeholders_in(settings: Mapping[str, object], names: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """``(name, value)`` of every setting (or of ``names`` only) whose value is a placeholder, sorted."""
    chosen = settings if names is None else {name: settings.get(name) for name in names}
    return sorted((name, str(value)) for name, value in chosen.items() if is_placeholder(value))
