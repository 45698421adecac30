"""ops/'s layout, read from its code: __main__ only assembles, one module per command registers its own parser,
settings are read in one module, AWS clients are built in one, and no Auth0 or HTTP client is built in ops at all
(``check`` uses the service's builder)."""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ops.__main__ import COMMANDS, parser
from tests.unit.test_layout import MAX_MODULE_LINES, imported_modules, under

if TYPE_CHECKING:
    from ops.__main__ import Commands

ROOT = Path(__file__).resolve().parents[3]
OPS = sorted((ROOT / "ops").rglob("*.py"))  # a command's package too (ops/tenant/)
MAX_MAIN_LINES = 150
SETTINGS = "ops/settings.py"
AWS = "ops/aws.py"
# Auth0's clients are built by chalicelib.auth0_api (ops check: wiring.management_client), AWS's by ops/aws.py.
AUTH0_CLIENTS = ("Auth0", "GetToken", "ManagementToken")
LIBRARY_CLIENTS = {"httpx": ("Client", "AsyncClient"), "boto3": ("client", "Session"), "session": ("client",)}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def environment_reads(source: str) -> list[str]:
    """``os.environ`` and ``os.getenv`` wherever they are used or imported from."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in ("environ", "getenv", "environb", "getenvb"):
                found.append(f"os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"os.{alias.name}" for alias in node.names if alias.name in ("environ", "getenv")]
    return found


def client_constructions(source: str) -> list[str]:
    """Calls that build an Auth0, HTTP or boto3 client or session (``Auth0(...)``, ``httpx.Client(...)``...)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        receiver = owner.id if isinstance(owner, ast.Name) else None
        if name in AUTH0_CLIENTS or name in LIBRARY_CLIENTS.get(receiver or "", ()):
            found.append(f"{receiver + '.' if receiver else ''}{name}()")
    return found


def violations(place: str, source: str) -> list[str]:
    """What in ``source`` (the text of ``place``, a path relative to the repository) breaks ops's rules."""
    problems = []
    if place != SETTINGS:
        problems += [f"{place} reads {read}: settings are read in {SETTINGS}" for read in environment_reads(source)]
    if place != AWS:
        boto3 = [module for module in imported_modules(source) if under(module, ("boto3",))]
        problems += [f"{place} imports {module}: AWS clients are built in {AWS}" for module in boto3]
        problems += [f"{place} builds {call}" for call in client_constructions(source)]
    return problems


def test_main_only_assembles_in_under_150_lines() -> None:
    lines = len((ROOT / "ops" / "__main__.py").read_text(encoding="utf-8").splitlines())

    assert lines < MAX_MAIN_LINES


def test_no_module_of_ops_is_over_400_lines() -> None:
    long = {relative(path): n for path in OPS if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}

    assert long == {}


def test_settings_are_read_and_aws_clients_built_in_one_module_each_and_no_auth0_client_is_built() -> None:
    offenders = [problem for path in OPS for problem in violations(relative(path), path.read_text(encoding="utf-8"))]

    assert offenders == []


@pytest.mark.parametrize(
    ("place", "source"),
    [
        ("ops/check.py", "import os\nvalue = os.environ.get('AUTH0_AUDIENCE')"),
        ("ops/rerun.py", "def f():\n    import os\n    return os.getenv('PING_QUEUE_URL')"),
        ("ops/dlq.py", "from os import environ"),
        ("ops/reconcile.py", "def f():\n    import boto3\n    return boto3.client('ssm')"),
        ("ops/stack.py", "from boto3.session import Session"),
        ("ops/check.py", "from auth0.management import Auth0\nclient = Auth0(base_url='x', token='t')"),
        ("ops/check.py", "import httpx\nhttp = httpx.Client(timeout=15.0)"),
    ],
    ids=["environ", "getenv", "from-os-import", "boto3-client", "boto3-session", "auth0-client", "httpx-client"],
)
def test_a_module_against_the_rules_is_caught(place: str, source: str) -> None:
    # Guards the test itself: each of these, planted in ops/, must fail the test above.
    assert violations(place, source) != []


def test_the_rules_see_what_they_are_about() -> None:
    # If the walks found nothing, the rules above would pass vacuously.
    assert environment_reads((ROOT / SETTINGS).read_text(encoding="utf-8")) != []
    assert "boto3" in imported_modules((ROOT / AWS).read_text(encoding="utf-8"))


def test_every_command_module_registers_itself_and_is_assembled() -> None:
    registering = {
        relative(path): [
            node.name
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef)
            and node.name.startswith("add_")
            and [argument.arg for argument in node.args.args] == ["commands"]
        ]
        for path in OPS
    }
    registering = {place: names for place, names in registering.items() if names}

    assembled = {relative(Path(str(sys.modules[add.__module__].__file__))): [add.__name__] for add in COMMANDS}
    assert assembled == registering, "one add_<command>(commands) per command module, each listed in COMMANDS"
    assert all(names == [f"add_{command_name(Path(place))}"] for place, names in assembled.items())


def command_name(path: Path) -> str:
    """``ops/dlq.py`` is the command dlq; a command's package registers it in its ``__init__.py`` (ops/tenant/)."""
    return path.parent.name if path.name == "__init__.py" else path.stem


def _alone(add: Callable[[Commands], None]) -> argparse.ArgumentParser:
    alone = argparse.ArgumentParser()
    add(alone.add_subparsers())
    return alone


def leaves(command: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every runnable command (``("dlq", "show")``...) with the ``run`` its parser set."""
    actions = [action for action in command._actions if isinstance(action, argparse._SubParsersAction)]
    if not actions:
        return [(path, command.get_default("run"))]
    return [leaf for name, sub in actions[0].choices.items() for leaf in leaves(sub, (*path, name))]


@pytest.mark.parametrize("add", COMMANDS, ids=[add.__module__ for add in COMMANDS])
def test_each_command_module_registers_commands_that_run_its_own_functions(add: Callable[[Commands], None]) -> None:
    found = leaves(_alone(add))

    assert found
    for path, run in found:
        assert callable(run), path
        assert getattr(run, "__module__", None) == add.__module__, path


def test_the_assembled_parser_runs_every_command_of_every_module() -> None:
    assert sorted(path for path, _ in leaves(parser())) == sorted(
        path for add in COMMANDS for path, _ in leaves(_alone(add))
    )
