"""`python -m ops --stage local tenant plan|apply` against a bare Auth0 sandbox over loopback HTTP: plan lists
what apply then makes, a second plan finds nothing, and the service works on the tenant apply made (a sale
grants the course; a sign-in through the SPA application apply created gets a token that opens it)."""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from chalicelib import wiring
from ops.__main__ import main as ops
from sandbox.server import SandboxServer
from tests.integration.harness import CATALOGUE, HANDBOOK, ROOT, chalice_local, gumroad_body, new_sale_id
from tests.integration.test_ops_check import local_stage
from tests.sandbox.browser import PASSWORD, Browser, Pkce, claims_of, exchange

BUYER = "tenant-buyer@example.com"
HANDBOOK_PERMISSION = "read:course:serverless-handbook"


@pytest.fixture
def bare() -> Iterator[SandboxServer]:
    with SandboxServer(bare=True, state_path=None) as server:
        yield server


@pytest.fixture
def stage(bare: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local stage's variables as `--stage local` loads them, AUTH0_DOMAIN pointed at the bare sandbox."""
    for name, value in local_stage().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUTH0_DOMAIN", bare.base_url)
    for name in ("AUTH0_SECRET_ID", "ACCESS_TOKEN_MAX_LIFETIME_SECONDS", "SPA_URL", "AUTH0_ONBOARDING_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    wiring.clear_caches()
    yield
    wiring.clear_caches()


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A copy of the local catalogue that apply writes the role ids into (inside the repository, as the service
    reads COURSES_FILE only there: under the git-ignored .sandbox/), and where the credentials go."""
    (ROOT / ".sandbox").mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="tenant-test-", dir=ROOT / ".sandbox"))
    catalogue = scratch / "courses.json"
    shutil.copy(ROOT / CATALOGUE, catalogue)
    try:
        yield catalogue, tmp_path / "auth0.env"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def tenant(command: str, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    catalogue, credentials = files
    code = ops(
        ["--stage", "local", "tenant", command, "--catalogue", str(catalogue), "--write-credentials", str(credentials)]
    )
    captured = capsys.readouterr()
    assert "secret-not-a-real" not in captured.out + captured.err
    return code, captured.out.splitlines()


def read_credentials(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name: " ".join(shlex.split(value)) for name, value in pairs}


@pytest.mark.usefixtures("stage")
def test_plan_on_a_bare_tenant_lists_every_change_exits_3_and_changes_nothing(
    bare: SandboxServer, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = (ROOT / CATALOGUE).read_text()

    code, lines = tenant("plan", files, capsys)

    assert code == 3
    changes = lines[1:]
    assert changes[0].startswith('+ create API https://courses.local/api "gumroad-auth0-gate local API": RS256')
    assert "token lifetime 600 s" in changes[0]
    assert [line.split(" (")[0] for line in changes[1:5]] == [
        "+ create role course:serverless-handbook",
        "+ add permission read:course:serverless-handbook on API https://courses.local/api to role "
        "course:serverless-handbook",
        "+ create role course:pro-membership",
        "+ add permission read:course:pro-membership on API https://courses.local/api to role course:pro-membership",
    ]
    assert [line.split(" (")[0] for line in changes[5:8]] == [
        '+ create application "gumroad-auth0-gate local SPA"',
        '+ create application "gumroad-auth0-gate local service"',
        '+ create application "gumroad-auth0-gate local login"',
    ]
    assert "callback, logout and web-origin URLs http://127.0.0.1:3000" in changes[5]
    assert changes[8].endswith(
        "create:role_members, create:users, delete:role_members, read:roles, read:users, update:users"
    )
    assert changes[9] == (
        "+ create database connection Username-Password-Authentication (brute_force_protection on, disable_signup on)"
    )
    assert changes[10].startswith("+ enable database connection Username-Password-Authentication for the spa")
    assert changes[11].startswith("~ write role_id of course serverless-handbook")
    assert changes[13].endswith("in " + str(files[1]) + " (values not shown)")
    assert len(changes) == 14
    assert bare.tenant.roles == {}
    assert bare.tenant.configuration.to_state() == {
        "apis": {},
        "clients": {},
        "grants": {},
        "connections": {},
    }
    assert files[0].read_text() == before
    assert not files[1].exists()


@pytest.mark.usefixtures("stage")
def test_apply_makes_the_tenant_then_plan_finds_nothing_and_the_service_works_on_it(
    bare: SandboxServer, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, lines = tenant("apply", files, capsys)
    assert code == 0, lines
    assert lines[-1] == "Done: 14 changes; the tenant is what the stage needs."

    again, lines = tenant("plan", files, capsys)
    assert again == 0, lines
    assert lines[1:] == ["Nothing to change: the tenant is what the stage needs."]
    assert tenant("apply", files, capsys)[1][-1] == "Done: 0 changes; the tenant is what the stage needs."

    # The role ids are where the service reads them; the credentials where --write-credentials said.
    catalogue = json.loads(files[0].read_text())
    by_name = {role.name: role.id for role in bare.tenant.roles.values()}
    assert {course["slug"]: course["role_id"] for course in catalogue["courses"]} == {
        slug: by_name[f"course:{slug}"] for slug in ("serverless-handbook", "pro-membership")
    }
    credentials = read_credentials(files[1])
    assert files[1].stat().st_mode & 0o777 == 0o600
    spa = credentials["VITE_AUTH0_CLIENT_ID"]

    environment = {
        "COURSES_FILE": files[0].relative_to(ROOT).as_posix(),
        "AUTH0_CLIENT_ID": credentials["AUTH0_CLIENT_ID"],
        "AUTH0_CLIENT_SECRET": credentials["AUTH0_CLIENT_SECRET"],
        "AUTH0_LOGIN_CLIENT_ID": credentials["AUTH0_LOGIN_CLIENT_ID"],
        "AUTH0_LOGIN_CLIENT_SECRET": credentials["AUTH0_LOGIN_CLIENT_SECRET"],
    }
    with chalice_local(bare, tmp_path, environment=environment) as service:
        sold = service.ping(gumroad_body("sale", email=BUYER, sale_id=new_sale_id()))
        assert sold.status_code == 200, sold.text
        assert sold.json()["changes"][:2] == ["user_created", "role_assigned"]

        # The buyer sets a password from the onboarding e-mail, then signs in through the SPA application.
        outbox = requests.get(f"{bare.base_url}/sandbox/outbox", params={"to": BUYER}, timeout=10).json()
        ticket = outbox["messages"][-1]["ticket"]
        set_password = {"ticket": ticket, "password": PASSWORD}
        assert requests.post(f"{bare.base_url}/sandbox/set-password", json=set_password, timeout=10).ok
        browser, pkce = Browser(bare), Pkce()
        code_ = browser.sign_in(pkce, BUYER, client_id=spa)
        answer = exchange(bare, code_, pkce, client_id=spa)
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        assert claims_of(token)["permissions"] == [HANDBOOK_PERMISSION]
        opened = service.get(f"/courses/{HANDBOOK}", token)
        assert opened.status_code == 200, opened.text
        assert service.get("/courses/pro-membership", token).status_code == 403
