"""The commands in README.md and docs/ are accepted exactly as written: ops by its CLI, make by the Makefile, python -m
entry points by their parsers, aws by the AWS CLI's spelling (botocore's service models, offline)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import shlex
import sys
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import UnknownServiceError

from ops.__main__ import parser
from tests.documentation import ROOT, documentation_text, shell_commands

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


# --- every other command: make targets, python -m entry points, the AWS CLI -------------------------------------

MAKEFILE = ROOT / "Makefile"
# `python -m` entry points the docs may name; `ops` has its own tests above.
ENTRY_POINTS = re.compile(r"^(sandbox|devstack(\.\w+)?|devstack\.s3|bench\.\w+)$")
# The AWS CLI's own commands (awscli/customizations), which are no API operation: their options as the CLI's
# ARG_TABLE spells them (aws-cli: awscli/customizations/cloudformation/deploy.py and package.py).
CLI_COMMANDS = {
    ("cloudformation", "deploy"): {
        "--template-file", "--stack-name", "--s3-bucket", "--force-upload", "--s3-prefix", "--kms-key-id",
        "--parameter-overrides", "--capabilities", "--no-execute-changeset", "--role-arn", "--notification-arns",
        "--fail-on-empty-changeset", "--no-fail-on-empty-changeset", "--tags", "--disable-rollback",
        "--no-disable-rollback",
    },
    ("cloudformation", "package"): {
        "--template-file", "--s3-bucket", "--s3-prefix", "--kms-key-id", "--output-template-file", "--use-json",
        "--force-upload", "--metadata",
    },
}  # fmt: skip
# Options every AWS CLI command takes (`aws help`, "Global Options"), and those of every API operation.
AWS_GLOBAL_OPTIONS = {
    "--debug", "--endpoint-url", "--no-verify-ssl", "--no-paginate", "--output", "--query", "--profile", "--region",
    "--version", "--color", "--no-sign-request", "--ca-bundle", "--cli-read-timeout", "--cli-connect-timeout",
    "--cli-binary-format", "--no-cli-pager", "--cli-auto-prompt", "--no-cli-auto-prompt",
}  # fmt: skip
AWS_OPERATION_OPTIONS = {"--cli-input-json", "--cli-input-yaml", "--generate-cli-skeleton"}
AWS_PAGINATION_OPTIONS = {"--starting-token", "--page-size", "--max-items"}
# The CLI's name of a service where botocore's differs.
AWS_SERVICES = {"s3api": "s3", "configservice": "config"}


def commands_of(program: str) -> list[tuple[str, list[str]]]:
    return [(page.name, words[1:]) for page, words in shell_commands() if words[0] == program]


def python_modules() -> list[tuple[str, str, list[str]]]:
    """``(page, module, arguments)`` of each ``python -m`` command other than ops."""
    found = []
    for page, words in shell_commands():
        if words[0] in ("python", "python3", ".venv/bin/python") and words[1:2] == ["-m"] and words[2] != "ops":
            found.append((page.name, words[2], words[3:]))
    return found


def as_id(page: str, words: list[str]) -> str:
    return f"{page}: {' '.join(words)}"[:100]


def makefile_targets() -> set[str]:
    targets: set[str] = set()
    for line in MAKEFILE.read_text(encoding="utf-8").splitlines():
        rule = re.match(r"^([A-Za-z0-9_.-]+(?: +[A-Za-z0-9_.-]+)*) *::?(?!=)", line)
        if rule:
            targets.update(rule.group(1).split())
    return targets


def makefile_variables() -> set[str]:
    return set(re.findall(r"\$\(([A-Z_]+)\)", MAKEFILE.read_text(encoding="utf-8")))


@pytest.mark.parametrize(("page", "words"), [pytest.param(*c, id=as_id(*c)) for c in commands_of("make")])
def test_each_documented_make_command_names_targets_and_variables_of_the_makefile(page: str, words: list[str]) -> None:
    targets = [word for word in words if "=" not in word]
    variables = [word.split("=", 1)[0] for word in words if "=" in word]

    assert targets, "a make command names its target"
    assert set(targets) <= makefile_targets()
    assert set(variables) <= makefile_variables()


def test_the_makefile_reader_finds_the_targets_and_refuses_a_misspelt_one() -> None:
    assert {"install", "test", "run", "demo", "package", "package-check", "ops", "clean"} <= makefile_targets()
    assert "packages" not in makefile_targets()


class _Parsed(Exception):
    def __init__(self, namespace: argparse.Namespace) -> None:
        self.namespace = namespace


def parsed(module: str, arguments: list[str], monkeypatch: pytest.MonkeyPatch) -> argparse.Namespace:
    """The module's ``main`` run as ``python -m module arguments`` until its parser has parsed them, and no further:
    the parser is the module's own, stopped right after it accepted (or refused, SystemExit 2) the arguments."""
    parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, args: Any = None, namespace: Any = None) -> argparse.Namespace:
        raise _Parsed(parse_args(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    monkeypatch.setattr(sys, "argv", [f"python -m {module}", *arguments])
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"no module {module}"
    entry = importlib.import_module(f"{module}.__main__" if spec.submodule_search_locations else module)
    with pytest.raises(_Parsed) as stopped:
        entry.main()
    return stopped.value.namespace


@pytest.mark.parametrize(
    ("page", "module", "arguments"), [pytest.param(*c, id=as_id(c[0], [c[1], *c[2]])) for c in python_modules()]
)
def test_each_documented_python_module_command_is_accepted_by_its_parser(
    page: str, module: str, arguments: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ENTRY_POINTS.match(module), f"{module} is not an entry point this test knows"
    if "..." in arguments:
        pytest.skip("an abbreviation")

    assert isinstance(parsed(module, arguments, monkeypatch), argparse.Namespace)


def test_a_misspelt_module_option_is_refused_by_its_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parsed("devstack.s3", ["--port", "8788"], monkeypatch).port == 8788
    with pytest.raises(SystemExit) as refused:
        parsed("devstack.s3", ["--prot", "8788"], monkeypatch)
    assert refused.value.code == 2


def paginated(session: botocore.session.Session, service: str, operation: str) -> bool:
    """The CLI adds --starting-token, --page-size and --max-items to an operation botocore can paginate."""
    try:
        session.get_paginator_model(service).get_paginator(operation)
    except (ValueError, UnknownServiceError):
        return False
    return True


def aws_spelling_problems(words: list[str]) -> list[str]:
    """What in ``aws SERVICE COMMAND OPTIONS...`` the AWS CLI would not accept, from botocore's service models (the
    CLI's API commands and their options are the operations and input members, kebab-cased) and ``CLI_COMMANDS``."""
    service, command, *rest = words
    options = {word for word in rest if word.startswith("--")}
    if (service, command) in CLI_COMMANDS:
        unknown = options - CLI_COMMANDS[service, command] - AWS_GLOBAL_OPTIONS
        return [f"aws {service} {command} has no option {option}" for option in sorted(unknown)]
    session = botocore.session.get_session()
    name = AWS_SERVICES.get(service, service)
    if name not in session.get_available_services():
        return [f"no AWS service {service}"]
    model = session.get_service_model(name)
    operations = {xform_name(operation, "-"): operation for operation in model.operation_names}
    if command not in operations:
        return [f"aws {service} has no command {command}"]
    operation = model.operation_model(operations[command])
    members = operation.input_shape.members if operation.input_shape else {}
    known = {"--" + xform_name(member, "-") for member in members} | AWS_GLOBAL_OPTIONS | AWS_OPERATION_OPTIONS
    known |= {"--no-" + xform_name(m, "-") for m, shape in members.items() if shape.type_name == "boolean"}
    if paginated(session, name, operations[command]):
        known |= AWS_PAGINATION_OPTIONS
    problems = [f"aws {service} {command} has no option {option}" for option in sorted(options - known)]
    required = operation.input_shape.required_members if operation.input_shape else []
    if "--cli-input-json" not in options:
        missing = [
            option for option in ("--" + xform_name(member, "-") for member in required) if option not in options
        ]
        problems += [f"aws {service} {command} needs {option}" for option in missing]
    return problems


@pytest.mark.parametrize(("page", "words"), [pytest.param(*c, id=as_id(*c)) for c in commands_of("aws")])
def test_each_documented_aws_command_is_spelt_as_the_aws_cli_spells_it(page: str, words: list[str]) -> None:
    assert aws_spelling_problems(words) == []


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        (["secretsmanager", "get-secret", "--secret-id", "x"], "aws secretsmanager has no command get-secret"),
        (["secretsmanager", "get-secret-value", "--secret", "x"], "aws secretsmanager get-secret-value has no option"),
        (["secretsmanager", "create-secret", "--secret-string", "{}"], "aws secretsmanager create-secret needs --name"),
        (["cloudformation", "deploy", "--template", "t.yaml"], "aws cloudformation deploy has no option --template"),
        (["cloudfrnt", "list-distributions"], "no AWS service cloudfrnt"),
    ],
)
def test_a_misspelt_aws_command_is_named(words: list[str], problem: str) -> None:
    assert any(found.startswith(problem) for found in aws_spelling_problems(words))


def test_the_documentation_shows_make_python_and_aws_commands() -> None:
    assert len(commands_of("make")) >= 20
    assert len(python_modules()) >= 15
    assert len(commands_of("aws")) >= 5
