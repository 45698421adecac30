"""The README's operator commands are accepted by the CLI exactly as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ops.__main__ import _parser

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ".venv/bin/python -m ops"
# A command in a code block or in backticks, up to a comment, a closing backtick or a line end.
COMMAND = re.compile(re.escape(PREFIX) + r"(?P<args>[^`#\n]*)")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for match in COMMAND.finditer(text):
        args = match.group("args").strip().rstrip("\\;").strip()
        if "..." in args or not args:  # an abbreviation in prose ("... dlq redrive --apply")
            continue
        found.append(args)
    return found


def test_the_readme_shows_the_operator_commands() -> None:
    assert len(readme_commands()) >= 20


@pytest.mark.parametrize("args", readme_commands())
def test_each_readme_command_parses(args: str) -> None:
    words = [re.sub(r"^<[^>]+>$", "placeholder", word) for word in shlex.split(args)]

    namespace = _parser().parse_args(words)

    assert callable(namespace.run)


def test_no_readme_command_runs_outside_the_virtualenv() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\.venv/bin/)python -m ops\b", text)
