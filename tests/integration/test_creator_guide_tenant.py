"""The outputs the creator's guide shows for `ops tenant` (steps 5 and 9), captured against a bare sandbox, are what
`tenant plan` and `tenant apply` print today."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ops.__main__ import main as ops
from sandbox.server import SandboxServer
from tests.integration.harness import CATALOGUE, ROOT
from tests.integration.test_ops_tenant import bare as bare  # the fixture: a sandbox holding only the bootstrap app
from tests.integration.test_ops_tenant import stage as stage  # the fixture: `--stage local`, pointed at it
from tests.unit.test_creator_guide import GUIDE, shown_output

_CLIENT_ID = re.compile(r"\b[A-Za-z0-9]{32}\b")
STACK_API = "https://abc123.execute-api.eu-west-1.amazonaws.com/api"  # an EndpointURL as a stack prints it
_ROLE_ID = re.compile(r"\brol_[A-Za-z0-9]{16}\b")
_ACTION_ID = re.compile(r"\bact_[A-Za-z0-9]{20}\b")


def printed(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.rstrip("\n").splitlines()


def same_ids(lines: list[str]) -> list[str]:
    """The lines with the ids a bare sandbox makes (different every run) written as one name each."""
    return [_ACTION_ID.sub("act_<id>", _ROLE_ID.sub("rol_<id>", _CLIENT_ID.sub("<client id>", line))) for line in lines]


@pytest.mark.usefixtures("stage")
def test_tenant_plan_apply_and_plan_on_a_bare_tenant_print_what_the_guide_shows(
    bare: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    credentials = ".sandbox/auth0.env"
    assert ops(["--stage", "local", "tenant", "plan", "--write-credentials", credentials]) == 3
    shown = [line.replace("http://127.0.0.1:8787", bare.base_url) for line in shown_output("Auth0 tenant ")]
    assert printed(capsys) == shown

    # apply writes the role ids into the catalogue: a copy, so the repository's stays as shipped
    catalogue = tmp_path / "courses.json"
    shutil.copy(ROOT / CATALOGUE, catalogue)
    written = tmp_path / "auth0.env"
    assert (
        ops(["--stage", "local", "tenant", "apply", "--catalogue", str(catalogue), "--write-credentials", str(written)])
        == 0
    )
    assert same_ids(printed(capsys)[-2:]) == same_ids(shown_output("The SPA application's client id: "))

    assert (
        ops(["--stage", "local", "tenant", "plan", "--catalogue", str(catalogue), "--write-credentials", str(written)])
        == 0
    )
    [settled] = printed(capsys)[-1:]
    assert settled == "Nothing to change: the tenant is what the stage needs."
    assert f"a second `plan` prints `{settled}`" in GUIDE.read_text(encoding="utf-8")


@pytest.mark.usefixtures("stage")
def test_tenant_apply_with_the_stacks_addresses_changes_the_spa_urls_and_the_actions_url_as_the_guide_shows(
    bare: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "courses.json"
    shutil.copy(ROOT / CATALOGUE, catalogue)
    where = ["--catalogue", str(catalogue), "--write-credentials", str(tmp_path / "auth0.env")]
    step_5 = ["--spa-url", "https://app.example.com", "--api-url", "https://api.example.com"]
    assert ops(["--stage", "local", "tenant", "apply", *where, *step_5]) == 0
    capsys.readouterr()

    step_9 = ["--spa-url", "https://d111abc.cloudfront.net", "--api-url", STACK_API]
    assert ops(["--stage", "local", "tenant", "plan", *where, *step_9]) == 3

    written = str(tmp_path / "auth0.env")
    changes = [line.replace(written, ".sandbox/auth0.env") for line in printed(capsys)[1:]]
    assert same_ids(changes) == same_ids(shown_output('~ update application "gumroad-auth0-gate local SPA"'))

    # and once applied, the stack's addresses are the tenant's: nothing is left to change
    assert ops(["--stage", "local", "tenant", "apply", *where, *step_9]) == 0
    capsys.readouterr()
    assert ops(["--stage", "local", "tenant", "plan", *where, *step_9]) == 0
