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
from typing import Any

import pytest
import requests

from chalicelib import wiring
from ops.__main__ import main as ops
from sandbox.defaults import DEFAULT_TENANT_CLIENT_ID, DEFAULT_TENANT_CLIENT_SECRET, TENANT_SCOPES
from sandbox.server import SandboxServer
from tests.integration.harness import (
    CATALOGUE,
    GUMROAD_RETRY_STATUSES,
    HANDBOOK,
    ROOT,
    chalice_local,
    free_port,
    gumroad_body,
    new_sale_id,
)
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


def tenant(
    command: str, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, list[str]]:
    catalogue, credentials = files
    code = ops(
        [
            *("--stage", "local", "tenant", command, "--catalogue", str(catalogue)),
            *("--write-credentials", str(credentials), *extra),
        ]
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
    assert changes[11:14] == [
        '+ create Action "gumroad-auth0-gate local post-login" (node22, post-login, secrets POST_LOGIN_SECRET, '
        "POST_LOGIN_URL; values not shown)",
        '+ deploy Action "gumroad-auth0-gate local post-login"',
        '+ bind Action "gumroad-auth0-gate local post-login" to the post-login trigger, after its other Actions',
    ]
    assert changes[14].startswith("~ write role_id of course serverless-handbook")
    assert changes[16].startswith("~ write client_id, client_secret, login_client_id, login_client_secret, ")
    assert "post_login_secret" in changes[16]
    assert changes[16].endswith("in " + str(files[1]) + " (values not shown)")
    assert len(changes) == 17
    assert bare.tenant.roles == {}
    assert bare.tenant.actions.listed(trigger=None, name=None) == []
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
    port = free_port()  # the Action's POST_LOGIN_URL names the service, which starts after apply
    api = ("--api-url", f"http://127.0.0.1:{port}")
    code, applied = tenant("apply", files, capsys, *api)
    assert code == 0, (applied, capsys.readouterr())
    assert applied[-1] == "Done: 17 changes; the tenant is what the stage needs.", "\n".join(applied)

    again, lines = tenant("plan", files, capsys, *api)
    assert again == 0, lines
    assert lines[1:] == ["Nothing to change: the tenant is what the stage needs."]
    assert tenant("apply", files, capsys, *api)[1][-1] == "Done: 0 changes; the tenant is what the stage needs."

    # The role ids are where the service reads them; the credentials where --write-credentials said.
    catalogue = json.loads(files[0].read_text())
    by_name = {role.name: role.id for role in bare.tenant.roles.values()}
    assert {course["slug"]: course["role_id"] for course in catalogue["courses"]} == {
        slug: by_name[f"course:{slug}"] for slug in ("serverless-handbook", "pro-membership")
    }
    credentials = read_credentials(files[1])
    assert files[1].stat().st_mode & 0o777 == 0o600
    spa = credentials["VITE_AUTH0_CLIENT_ID"]
    assert f"The SPA application's client id: {spa}" in applied
    # The repository's Action runs at every login, calling this service with the secret the service holds.
    [action] = bare.tenant.actions.bound("post-login")
    assert action.name == "gumroad-auth0-gate local post-login"
    assert action.code == (ROOT / "actions" / "post-login.js").read_text()
    assert action.secrets == {
        "POST_LOGIN_URL": f"http://127.0.0.1:{port}/auth0/post-login",
        "POST_LOGIN_SECRET": credentials["POST_LOGIN_SECRET"],
    }

    environment = {
        "COURSES_FILE": files[0].relative_to(ROOT).as_posix(),
        "AUTH0_CLIENT_ID": credentials["AUTH0_CLIENT_ID"],
        "AUTH0_CLIENT_SECRET": credentials["AUTH0_CLIENT_SECRET"],
        "AUTH0_LOGIN_CLIENT_ID": credentials["AUTH0_LOGIN_CLIENT_ID"],
        "AUTH0_LOGIN_CLIENT_SECRET": credentials["AUTH0_LOGIN_CLIENT_SECRET"],
        "POST_LOGIN_SECRET": credentials["POST_LOGIN_SECRET"],
    }
    with chalice_local(bare, tmp_path, environment=environment, port=port) as service:
        body = gumroad_body("sale", email=BUYER, sale_id=new_sale_id())
        sold = service.ping(body)
        for retry in range(1, 4):  # Gumroad redelivers a 5xx (a loaded machine can outlast the ping's deadline)
            if sold.status_code not in GUMROAD_RETRY_STATUSES:
                break
            sold = service.ping(f"{body}&retry_count={retry}")
        assert sold.status_code == 200, sold.text
        [buyer] = [user for user in bare.tenant.describe()["users"] if user["email"] == BUYER]
        assert buyer["permissions"] == [HANDBOOK_PERMISSION]  # the role apply made, by the id it wrote back

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


def bootstrap_token(server: SandboxServer) -> dict[str, str]:
    """The Authorization header of the bootstrap application, as `ops tenant` gets it."""
    answer = requests.post(
        f"{server.base_url}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": DEFAULT_TENANT_CLIENT_ID,
            "client_secret": DEFAULT_TENANT_CLIENT_SECRET,
            "audience": server.management_audience,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.usefixtures("stage")
def test_an_application_of_the_same_name_that_ops_did_not_create_is_refused_and_nothing_is_changed(
    bare: SandboxServer, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = {"name": "gumroad-auth0-gate local SPA", "callbacks": ["https://theirs.example.com"]}
    made = requests.post(f"{bare.base_url}/api/v2/clients", json=theirs, headers=bootstrap_token(bare), timeout=10)
    assert made.status_code == 201
    before = made.json()

    planned = ops(["--stage", "local", "tenant", "plan", "--catalogue", str(files[0])])
    plan_err = capsys.readouterr().err
    applied = ops(["--stage", "local", "tenant", "apply", "--catalogue", str(files[0])])
    apply_err = capsys.readouterr().err

    assert (planned, applied) == (2, 2)
    refusal = (
        f'ops: refused: application "gumroad-auth0-gate local SPA" exists as {before["client_id"]} and ops tenant '
        "did not create it (its client_metadata lacks managed_by=gumroad-auth0-gate): pass --adopt "
        '"gumroad-auth0-gate local SPA" to manage it'
    )
    assert refusal in plan_err
    assert refusal in apply_err
    assert "nothing was changed" in apply_err
    assert bare.tenant.configuration.clients == {before["client_id"]: before}
    assert bare.tenant.configuration.apis == {}
    assert bare.tenant.roles == {}


@pytest.mark.usefixtures("stage")
def test_the_tenants_own_connection_is_refused_until_adopted_then_gets_sign_ups_off(
    bare: SandboxServer, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    default = {"name": "Username-Password-Authentication", "strategy": "auth0", "options": {"mfa": {"active": True}}}
    headers = bootstrap_token(bare)
    made = requests.post(f"{bare.base_url}/api/v2/connections", json=default, headers=headers, timeout=10)
    assert made.status_code == 201
    path = f"{bare.base_url}/api/v2/connections/{made.json()['id']}"

    assert tenant("apply", files, capsys)[0] == 2
    assert requests.get(path, headers=headers, timeout=10).json()["options"] == {"mfa": {"active": True}}

    adopted = ops(
        [
            *("--stage", "local", "tenant", "apply", "--catalogue", str(files[0])),
            *("--write-credentials", str(files[1]), "--adopt", "Username-Password-Authentication"),
        ]
    )
    capsys.readouterr()

    assert adopted == 0
    connection = requests.get(path, headers=headers, timeout=10).json()
    enabled = requests.get(f"{path}/clients", headers=headers, timeout=10).json()["clients"]
    assert connection["options"] == {"mfa": {"active": True}, "disable_signup": True, "brute_force_protection": True}
    assert connection["metadata"] == {"managed_by": "gumroad-auth0-gate", "stage": "local"}
    assert len(enabled) == 3
    assert tenant("plan", files, capsys)[0] == 0


@pytest.mark.usefixtures("stage")
def test_apply_binds_its_action_after_the_ones_already_bound_and_leaves_them_as_they_were(
    bare: SandboxServer, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    headers = bootstrap_token(bare)
    actions = f"{bare.base_url}/api/v2/actions"
    theirs = {
        "name": "theirs",
        "code": "exports.onExecutePostLogin = async () => {};",
        "supported_triggers": [{"id": "post-login"}],
    }
    made = requests.post(f"{actions}/actions", json=theirs, headers=headers, timeout=10).json()
    assert requests.post(f"{actions}/actions/{made['id']}/deploy", headers=headers, timeout=10).ok
    bound = {"bindings": [{"ref": {"type": "action_id", "value": made["id"]}, "display_name": "Theirs, first"}]}
    assert requests.patch(f"{actions}/triggers/post-login/bindings", json=bound, headers=headers, timeout=10).ok

    code, lines = tenant("apply", files, capsys)

    assert code == 0, lines
    bindings = requests.get(f"{actions}/triggers/post-login/bindings", headers=headers, timeout=10).json()["bindings"]
    assert [(binding["action"]["id"], binding["action"]["name"]) for binding in bindings] == [
        (made["id"], "theirs"),
        (bindings[1]["action"]["id"], "gumroad-auth0-gate local post-login"),
    ]
    after = requests.get(f"{actions}/actions/{made['id']}", headers=headers, timeout=10).json()
    assert (after["code"], after["all_changes_deployed"]) == (theirs["code"], True)


@pytest.mark.usefixtures("stage")
def test_an_apply_that_fails_half_way_is_completed_by_the_next_without_duplicates(
    bare: SandboxServer, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fault = {"status": 500, "count": 1, "paths": ["/api/v2/connections"], "method": "POST"}
    assert requests.post(f"{bare.base_url}/sandbox/faults", json=fault, timeout=10).status_code == 201

    failed = ops(["--stage", "local", "tenant", "apply", "--catalogue", str(files[0])])
    err = capsys.readouterr().err

    assert failed == 2
    assert "Auth0 answered 500" in err
    assert len(bare.tenant.configuration.clients) == 3
    assert bare.tenant.configuration.connections == {}

    code, lines = tenant("apply", files, capsys)

    assert code == 0, lines
    assert len(bare.tenant.configuration.clients) == 3
    assert len(bare.tenant.roles) == 2
    assert len(bare.tenant.configuration.connections) == 1
    assert tenant("plan", files, capsys)[0] == 0


def drift(server: SandboxServer, scope: str) -> None:
    """Someone changes what apply made, in the dashboard, so that the next apply needs ``scope`` to put it back."""
    token = server.management_token(scope=" ".join(TENANT_SCOPES))

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        answer = requests.request(method, f"{server.base_url}/api/v2/{path}", headers=headers, timeout=10, **kwargs)
        assert answer.ok, answer.text
        return answer

    managed = [client for client in call("GET", "clients").json() if client["client_metadata"].get("managed_by")]
    service = next(client["client_id"] for client in managed if client["app_type"] == "non_interactive")
    if scope == "update:resource_servers":
        [api] = [api for api in call("GET", "resource-servers").json() if not api["is_system"]]
        call("PATCH", f"resource-servers/{api['id']}", json={"token_lifetime": 1234})
    elif scope == "update:clients":
        call("PATCH", f"clients/{service}", json={"is_first_party": False})
    elif scope == "update:client_grants":
        [grant] = call("GET", "client-grants", params={"client_id": service}).json()["client_grants"]
        call("PATCH", f"client-grants/{grant['id']}", json={"scope": ["read:users"]})
    elif scope == "update:connections_options":
        [connection] = call("GET", "connections").json()
        options = {**connection["options"], "disable_signup": False}
        call("PATCH", f"connections/{connection['id']}", json={"options": options})


# Needed only to put back what someone changed: a fresh apply makes these resources whole and never updates them.
ON_DRIFT = ("update:resource_servers", "update:clients", "update:client_grants", "update:connections_options")
# Auth0 hides (does not refuse) a client's secret without read:client_keys and a connection's options without
# read:connections_options: ops tenant names the scope from the field left out, where the others get a 403.
HIDDEN = {
    "read:client_keys": "Auth0 left client_secret out of the application it read",
    "read:connections_options": "Auth0 left options out of the connection it read",
}


@pytest.mark.usefixtures("stage")
@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("where", [".", "a-file/auth0.env"])
def test_a_credentials_destination_apply_could_not_write_is_one_line_before_any_change(
    bare: SandboxServer,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
    where: str,
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    destination = tmp_path / where

    code = ops(
        [
            *("--stage", "local", "tenant", command, "--catalogue", str(files[0])),
            *("--write-credentials", str(destination)),
        ]
    )
    err = capsys.readouterr().err

    assert code == 2
    assert err.startswith(f"ops: invalid_option: --write-credentials {destination}")
    assert len(err.splitlines()) == 1
    assert bare.tenant.configuration.apis == {}
    assert bare.tenant.configuration.clients == {}
    assert bare.tenant.roles == {}


@pytest.mark.usefixtures("stage")
@pytest.mark.parametrize("scope", TENANT_SCOPES)
def test_a_missing_management_scope_is_named_in_the_error(
    scope: str, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue, credentials = files
    apply = [
        *("--stage", "local", "tenant", "apply", "--catalogue", str(catalogue)),
        "--write-credentials",
        str(credentials),
    ]
    lacking = tuple(granted for granted in TENANT_SCOPES if granted != scope)
    with SandboxServer(bare=True, state_path=None, tenant_scopes=lacking) as server:
        monkeypatch.setenv("AUTH0_DOMAIN", server.base_url)
        if scope in ON_DRIFT:
            assert ops(apply) == 0, capsys.readouterr().err
            drift(server, scope)
        code = ops(apply)
        captured = capsys.readouterr()
    named = f"the bootstrap application (AUTH0_TENANT_CLIENT_ID) lacks the Management API scope {scope}"

    assert code == 2, captured.err
    assert "secret-not-a-real" not in captured.out + captured.err
    assert named in captured.err
    assert HIDDEN.get(scope, "403 insufficient_scope") in captured.err
    assert len(captured.err.splitlines()) == 1


def test_the_bare_sandbox_grants_its_bootstrap_application_exactly_the_scopes_the_help_lists() -> None:
    from ops.tenant import TENANT_DOC
    from ops.tenant.model import TENANT_SCOPES as NEEDED

    assert TENANT_SCOPES == NEEDED
    listed = TENANT_DOC.split("with these scopes:", 1)[1].split("A scope it lacks", 1)[0].split()
    assert tuple(listed) == NEEDED
