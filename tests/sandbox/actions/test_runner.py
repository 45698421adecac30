"""The Node process Actions run in: side by side, each with its own console, a time limit, a warm module."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox.actions.runner import ActionFailed, NodeRunner
from sandbox.tenant.actions import Action


def action(code: str, tmp_path: Path) -> Action:
    return Action(id="act_test", name="test", code=code, source=tmp_path / "test.js")


def test_simultaneous_executions_each_keep_their_own_commands_and_console_lines(tmp_path: Path) -> None:
    code = """exports.onExecutePostLogin = async (event, api) => {
      console.log("start", event.user.user_id);
      await new Promise((resolve) => setTimeout(resolve, 20 * (event.n % 3)));
      api.idToken.setCustomClaim("https://test/n", event.n);
      console.log("end", event.user.user_id);
    };"""
    runner = NodeRunner()
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(
                pool.map(
                    lambda n: runner.run(action(code, tmp_path), {"n": n, "user": {"user_id": f"u{n}"}}), range(20)
                )
            )
    finally:
        runner.close()

    for n, result in enumerate(results):
        assert result.commands == [["id_claim", "https://test/n", n]]
        assert result.logs == [f"start u{n}", f"end u{n}"]


def test_a_synchronous_loop_is_given_up_after_the_limit_and_the_next_execution_runs_in_a_new_process(
    tmp_path: Path,
) -> None:
    runner = NodeRunner(timeout_seconds=0.5)
    stuck = action("exports.onExecutePostLogin = async () => { for (;;) {} };", tmp_path)
    fine = action(
        'exports.onExecutePostLogin = async (e, api) => { api.idToken.setCustomClaim("https://t/ok", 1); };', tmp_path
    )
    try:
        started = time.monotonic()
        with pytest.raises(ActionFailed, match="Script execution time exceeded"):
            runner.run(stuck, {})
        assert time.monotonic() - started < 10
        assert runner.run(fine, {}).commands == [["id_claim", "https://t/ok", 1]]
    finally:
        runner.close()


def test_an_actions_module_stays_warm_between_executions_as_in_auth0s_containers(tmp_path: Path) -> None:
    code = """let calls = 0;
    exports.onExecutePostLogin = async (event, api) => {
      calls += 1;
      api.idToken.setCustomClaim("https://t/calls", calls);
    };"""
    runner = NodeRunner()
    try:
        counts = [runner.run(action(code, tmp_path), {}).commands[0][2] for _ in range(3)]
    finally:
        runner.close()
    assert counts == [1, 2, 3]


def test_a_syntax_error_fails_the_execution_and_not_the_runtime(tmp_path: Path) -> None:
    runner = NodeRunner()
    try:
        with pytest.raises(ActionFailed):
            runner.run(action("exports.onExecutePostLogin = async (event, api) => {", tmp_path), {})
        assert runner.run(action("exports.onExecutePostLogin = async () => {};", tmp_path), {}).commands == []
    finally:
        runner.close()
