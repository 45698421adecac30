"""`make ops ARGS=...`: the command's output passes through; make's own exit code and last line say how it ended."""

from __future__ import annotations

import os
import shutil
import subprocess

from sandbox.server import SandboxServer
from tests.integration.harness import CATALOGUE, ROOT


def make_ops(args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    # Not the settings of this run, nor the make that runs the tests (its level and jobserver).
    skipped = ("AUTH0_", "GUMROAD_", "PING_", "COURSES_", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(skipped)}
    make = shutil.which("make")
    assert make is not None, "make test runs under make"
    return subprocess.run(
        [make, "--no-print-directory", "ops", f"ARGS={args}"],
        cwd=ROOT,
        env={**inherited, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_command_that_succeeds_exits_0_through_make() -> None:
    done = make_ops("rerun --help")

    assert done.returncode == 0, done.stderr
    assert "--sale-id SALE_ID" in done.stdout


def test_a_command_that_finds_a_problem_fails_make_which_names_the_commands_exit_code() -> None:
    with SandboxServer(catalogue=ROOT / CATALOGUE) as sandbox:
        found = make_ops("--stage local explain nobody@example.com", AUTH0_DOMAIN=sandbox.base_url)

    assert "nobody@example.com: no Auth0 user with this address" in found.stdout
    assert found.returncode == 2, "GNU make exits 0, 1 (only with -q) or 2: never the command's own code"
    assert found.stderr.rstrip().endswith("ops] Error 1")


def test_a_refused_command_fails_make_with_its_one_line() -> None:
    refused = make_ops("--stage no-such-stage check")

    assert refused.returncode == 2
    assert "ops: not_configured: no stage 'no-such-stage' in .chalice/config.json" in refused.stderr
    assert refused.stderr.rstrip().endswith("ops] Error 2")
