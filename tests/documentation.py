"""The documentation the tests hold to the code: README.md and every page under docs/."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def documentation_pages() -> list[Path]:
    """README.md first, then docs/*.md in name order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documentation_text() -> str:
    """Every page, one after another (a command is found wherever it is written)."""
    return "\n".join(page.read_text(encoding="utf-8") for page in documentation_pages())


@dataclass(frozen=True)
class Block:
    """A fenced code block of one language, with the paragraph just above it (what the block is for)."""

    page: Path
    preface: str
    text: str


_FENCE = re.compile(r"^```(?P<language>[\w-]*)\n(?P<text>.*?)^```$", re.MULTILINE | re.DOTALL)


def fenced_blocks(language: str) -> list[Block]:
    """Every ```language block of README.md and docs/, in page order."""
    blocks = []
    for page in documentation_pages():
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match["language"] == language:
                before = text[: match.start()].rstrip("\n")
                preface = before[before.rfind("\n\n") + 2 :] if "\n\n" in before else before
                blocks.append(Block(page, preface, match["text"]))
    return blocks
