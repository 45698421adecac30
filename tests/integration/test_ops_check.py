"""`python -m ops --stage local check` against the Auth0 sandbox over loopback HTTP: the local
stage's settings pass every check, and a tenant broken on purpose gets the right FAIL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from chalicelib import wiring
from ops.__main__ import main as ops
from sandbox.server import SandboxServer
from tests.integration.harness import CATALOGUE, ROOT

ROLE_ID = "rol_LocalServerless01"
SHORT_LIFETIME = 300


def local_stage() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return {**config["environment_variables"], **config["stages"]["local"]["environment_variables"]}


@pytest.fixture
def stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local stage's variables as `--stage local` loads them (set here, so the test leaves none behind)."""
    for name, value in local_stage().items():
        monkeypatch.setenv(name, value)
    for name in ("AUTH0_SECRET_ID", "ACCESS_TOKEN_MAX_LIFETIME_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    # The stage names AWS_REGION, which ops copies into AWS_DEFAULT_REGION: recorded, so it is undone too.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    wiring.clear_caches()
    yield
    wiring.clear_caches()


def run_check(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[list[str]], str]:
    """`ops --stage local check` with AUTH0_DOMAIN pointed at this sandbox's ephemeral port."""
    monkeypatch.setenv("AUTH0_DOMAIN", sandbox.base_url)
    wiring.clear_caches()
    code = ops(["--stage", "local", "check"])
    out = capsys.readouterr().out
    table = out.split("\n\n", 1)[0].splitlines()[1:]
    rows = [line.split(maxsplit=1) for line in table]
    assert "secret" not in out
    return code, rows, out


@pytest.mark.usefixtures("stage")
def test_the_local_stage_passes_every_check_against_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SandboxServer(catalogue=ROOT / CATALOGUE, token_lifetime_seconds=SHORT_LIFETIME) as sandbox:
        code, rows, out = run_check(sandbox, monkeypatch, capsys)
        requests = sandbox.stats.snapshot()["requests"]

    assert code == 0, out
    assert len(rows) == 6  # the grant, RBAC, permissions in tokens, token lifetime, two roles
    assert {status for status, _ in rows} == {"ok"}, out
    assert "exactly the scopes the service needs (6)" in out
    assert f"access tokens live {SHORT_LIFETIME} s (5 min)" in out
    assert "course:pro-membership carries read:course:pro-membership" in out
    assert "Everything the deployment needs is in place." in out
    assert requests["GET /api/v2/client-grants"] == 1
    assert not [endpoint for endpoint in requests if not endpoint.startswith(("GET ", "POST /oauth/token"))]


@pytest.mark.usefixtures("stage")
def test_a_role_missing_from_the_tenant_is_the_one_fail(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SandboxServer(catalogue=ROOT / CATALOGUE, token_lifetime_seconds=SHORT_LIFETIME) as sandbox:
        del sandbox.tenant.roles[ROLE_ID]
        code, rows, out = run_check(sandbox, monkeypatch, capsys)

    assert code == 1
    assert [row for row in rows if row[0] != "ok"] == [["FAIL", f"role {ROLE_ID} (serverless-handbook)  no such role"]]
    assert "put its id in the catalogue's role_id for 'serverless-handbook'" in out


@pytest.mark.usefixtures("stage")
def test_a_role_with_another_permission_fails_and_the_api_lacks_the_course_permission(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SandboxServer(catalogue=ROOT / CATALOGUE, token_lifetime_seconds=SHORT_LIFETIME) as sandbox:
        role = sandbox.tenant.roles[ROLE_ID]
        sandbox.tenant.roles[ROLE_ID] = replace(role, permission="read:course:something-else")
        code, _, out = run_check(sandbox, monkeypatch, capsys)

    assert code == 1
    assert "does not define the permission read:course:serverless-handbook" in out
    assert f"role {ROLE_ID} (serverless-handbook): lacks the permission read:course:serverless-handbook" in out


@pytest.mark.usefixtures("stage")
def test_the_sandboxs_24_hour_tokens_are_a_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SandboxServer(catalogue=ROOT / CATALOGUE, token_lifetime_seconds=86_400) as sandbox:
        code, rows, out = run_check(sandbox, monkeypatch, capsys)

    assert code == 0
    assert [row[0] for row in rows].count("warn") == 1
    assert "access tokens live 86400 s (24 h), over the 600 s (10 min) maximum" in out
