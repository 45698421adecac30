"""content/: the sample lessons the local bucket is seeded with, one folder per local course, each file valid."""

from __future__ import annotations

import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
SLUGS = [course["slug"] for course in json.loads((ROOT / "chalicelib" / "courses.local.json").read_text())["courses"]]
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"  # EBML header


def files(slug: str, suffix: str) -> list[Path]:
    return sorted((CONTENT / slug).glob(f"*{suffix}"))


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self.scripts = 0
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open = self._open or tag == "p"
        if tag == "p":
            self.paragraphs.append("")
        self.scripts += tag in ("script", "iframe", "object")

    def handle_endtag(self, tag: str) -> None:
        self._open = self._open and tag != "p"

    def handle_data(self, data: str) -> None:
        if self._open:
            self.paragraphs[-1] += data


def test_there_is_one_folder_per_local_course_and_nothing_else() -> None:
    assert sorted(path.name for path in CONTENT.iterdir()) == sorted(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_each_course_has_a_text_lesson_a_download_and_a_video(slug: str) -> None:
    assert len(files(slug, ".html")) == 1
    assert len(files(slug, ".pdf") + files(slug, ".zip")) == 1
    assert len(files(slug, ".webm")) == 1


@pytest.mark.parametrize("slug", SLUGS)
def test_the_text_lesson_is_a_page_of_a_few_real_paragraphs_without_scripts(slug: str) -> None:
    (lesson,) = files(slug, ".html")
    parser = _Paragraphs()
    parser.feed(lesson.read_text(encoding="utf-8"))

    assert len(parser.paragraphs) >= 3
    assert all(len(paragraph.split()) >= 30 for paragraph in parser.paragraphs)
    assert parser.scripts == 0
    assert '<meta charset="utf-8">' in lesson.read_text(encoding="utf-8")


def test_the_pdf_is_complete_and_its_cross_reference_table_points_at_its_objects() -> None:
    for pdf in sorted(CONTENT.glob("*/*.pdf")):
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-1.")
        assert data.rstrip().endswith(b"%%EOF")
        xref_at = int(re.search(rb"startxref\s+(\d+)", data).group(1))  # type: ignore[union-attr]
        assert data[xref_at:].startswith(b"xref")
        offsets = [int(offset) for offset in re.findall(rb"(\d{10}) 00000 n", data)]
        assert offsets
        for number, offset in enumerate(offsets, 1):
            assert data[offset:].startswith(f"{number} 0 obj".encode())


def test_the_zip_is_valid_and_holds_readable_text() -> None:
    for archive in sorted(CONTENT.glob("*/*.zip")):
        with zipfile.ZipFile(archive) as opened:
            assert opened.testzip() is None
            names = opened.namelist()
            assert names
            assert all(opened.read(name).decode("utf-8").strip() for name in names)


def test_each_video_is_a_small_webm() -> None:
    for video in sorted(CONTENT.glob("*/*.webm")):
        data = video.read_bytes()
        assert data.startswith(WEBM_MAGIC)
        assert b"webm" in data[:64]  # the EBML DocType
        assert len(data) < 300_000


def test_the_whole_folder_stays_under_a_megabyte() -> None:
    assert sum(path.stat().st_size for path in CONTENT.rglob("*") if path.is_file()) < 1_000_000
