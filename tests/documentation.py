"""The documentation the tests hold to the code: README.md and every page under docs/."""

from __future__ import annotations

import re
import shlex
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


# Where shell commands are written: a bash/sh/console block (or one without a language), and `inline code`.
SHELL_LANGUAGES = ("bash", "sh", "shell", "console", "")
PROGRAMS = ("make", "aws", "python", "python3", ".venv/bin/python")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# `<your bucket>`, `<ARN from step 2>`: a value the reader fills in, one word for the shell.
_PLACEHOLDER = re.compile(r"<[A-Za-z][^<>\n]*>")
_OPERATOR = re.compile(r"^[();<>|&]+$")
# A fence may be indented (a block inside a numbered step): the closing fence has the same indent.
_INDENTED_FENCE = re.compile(
    r"^(?P<indent> *)```(?P<language>[\w-]*)\n(?P<text>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL
)


def shell_commands() -> list[tuple[Path, list[str]]]:
    """Each simple command (words, assignments and operators split off) whose program is one of ``PROGRAMS``, with
    its page: from shell blocks (backslash continuations joined, ``$ `` prompts and comments dropped) and inline
    code."""
    found: list[tuple[Path, list[str]]] = []
    for page in documentation_pages():
        text = page.read_text(encoding="utf-8")
        lines: list[str] = []
        for match in _INDENTED_FENCE.finditer(text):
            if match["language"] in SHELL_LANGUAGES:
                lines += match["text"].replace("\\\n", " ").splitlines()
        prose = _INDENTED_FENCE.sub("", text)
        lines += [match[1] for match in _INLINE.finditer(prose)]
        for line in lines:
            found += [(page, words) for words in _simple_commands(line.strip().removeprefix("$ "))]
    return found


def _simple_commands(line: str) -> list[list[str]]:
    lexer = shlex.shlex(_PLACEHOLDER.sub("PLACEHOLDER", line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # not shell (an unbalanced quote in prose or output)
        return []
    commands: list[list[str]] = [[]]
    for token in tokens:
        if _OPERATOR.match(token):
            commands.append([])
        else:
            commands[-1].append(token)
    programs = []
    for words in commands:
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):  # NAME=value before the program
            words = words[1:]
        # A program named alone in prose (`make`, `python -m`) is no command.
        if words and words[0] in PROGRAMS and len(words) > 1 and words[-1] != "-m":
            programs.append(words)
    return programs
