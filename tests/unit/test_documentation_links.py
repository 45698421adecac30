"""Every relative link in README.md and docs/ points at a file that exists, and at a heading it has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.documentation import ROOT, documentation_pages

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (?P<title>.+)$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens (code blocks ignored)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {
        re.sub(r"[^\w\- ]", "", match["title"].strip().lower()).replace(" ", "-") for match in HEADING.finditer(text)
    }


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [match["target"] for match in LINK.finditer(text) if not re.match(r"^[a-z]+:", match["target"])]


@pytest.mark.parametrize("page", documentation_pages(), ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_a_heading(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no such heading")

    assert broken == []


def test_the_pages_have_links_to_check() -> None:
    # Guards the test above: a regex that matched nothing would pass vacuously.
    assert sum(len(relative_links(page)) for page in documentation_pages()) >= 20
