"""The operator commands in README.md and docs/ are accepted by the CLI exactly as written."""

from __future__ import annotations

import re
import shlex

import pytest

from ops.__main__ import parser
from tests.documentation import documentation_text

PREFIX = ".venv/bin/python -m ops"
# A command in a code block or in backticks, up to a comment, a closing backtick or a line end.
COMMAND = re.compile(re.escape(PREFIX) + r"(?P<args>[^`#\n]*)")


def documented_commands() -> list[str]:
    text = documentation_text()
    found = []
    for match in COMMAND.finditer(text):
        args = match.group("args").strip().rstrip("\\;").strip()
        if "..." in args or not args:  # an abbreviation in prose ("... dlq redrive --apply")
            continue
        found.append(args)
    return found


def test_the_documentation_shows_the_operator_commands() -> None:
    assert len(documented_commands()) >= 20


@pytest.mark.parametrize("args", documented_commands())
def test_each_documented_command_parses(args: str) -> None:
    words = [re.sub(r"^<[^>]+>$", "placeholder", word) for word in shlex.split(args)]

    namespace = parser().parse_args(words)

    assert callable(namespace.run)


def test_no_documented_command_runs_outside_the_virtualenv() -> None:
    text = documentation_text()
    assert not re.search(r"(?<!\.venv/bin/)python -m ops\b", text)
