"""The documentation the tests hold to the code: README.md and every page under docs/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def documentation_pages() -> list[Path]:
    """README.md first, then docs/*.md in name order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documentation_text() -> str:
    """Every page, one after another (a command is found wherever it is written)."""
    return "\n".join(page.read_text(encoding="utf-8") for page in documentation_pages())
