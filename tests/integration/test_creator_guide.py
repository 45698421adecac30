"""The outputs the creator's guide shows as captured against the Auth0 sandbox and the local S3 endpoint are what the
commands print today: `tenant plan`/`apply` on a bare tenant, `check`, `explain` after a sale and for an unknown
address, `resend --apply`, `content push`; and `spa publish`'s refusal of a stack whose CORS would refuse the app,
against moto."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from chalicelib import wiring
from devstack.s3 import DEFAULT_BUCKET, LocalS3
from devstack.stack import LocalStage
from ops.__main__ import main as ops
from sandbox.defaults import LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS
from sandbox.server import SandboxServer
from tests.integration.conftest import Service
from tests.integration.harness import CATALOGUE, ROOT, gumroad_body
from tests.integration.test_ops_check import local_stage, run_check
from tests.integration.test_ops_check import stage as stage  # the fixture: `--stage local`'s variables, undone after
from tests.spa_support import PARAMETERS, REGION, STACK, deploy_spa_stack
from tests.unit.ops.test_stack import aws_credentials
from tests.unit.ops.test_stack import clean_environment as clean_environment  # autouse: no AWS settings of this machine
from tests.unit.test_creator_guide import GUIDE, shown_output

BUYER = "customer@example.com"  # the recorded sale's buyer, as the guide shows
_USER_ID = re.compile(r"auth0\|[0-9a-f]{24}")


def same_user(lines: list[str]) -> list[str]:
    """The lines with the user id the sandbox made for this run written as one name (it differs every run)."""
    return [_USER_ID.sub("auth0|<user>", line) for line in lines]


def printed(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.rstrip("\n").splitlines()


@pytest.mark.usefixtures("stage")
def test_check_prints_what_the_guide_shows(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # The API's token lifetime as `make run` starts the sandbox (devstack/stack.py).
    with SandboxServer(
        catalogue=ROOT / CATALOGUE, token_lifetime_seconds=LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS
    ) as sandbox:
        code, _, out = run_check(sandbox, monkeypatch, capsys)

    assert code == 0
    assert out.rstrip("\n").splitlines() == shown_output("STATUS  CHECK")


def test_explain_and_resend_after_a_sale_print_what_the_guide_shows(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    assert service.deliver(gumroad_body("sale")).final == 200

    assert ops(["--stage", "local", "explain", BUYER]) == 0
    assert same_user(printed(capsys)) == same_user(shown_output(f"{BUYER}: 1 Auth0 user"))

    assert ops(["--stage", "local", "resend", BUYER, "--apply"]) == 0
    assert same_user(printed(capsys)) == same_user(shown_output(f"{BUYER}: Auth0 user"))
    sent = [message["kind"] for message in service.sandbox.tenant.outbox.messages if message["to"] == BUYER]
    assert sent == ["password_reset", "password_reset"], "one at the sale, one resent"


def test_explain_of_an_address_nobody_bought_with_prints_what_the_guide_shows(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ops(["--stage", "local", "explain", "nobody@example.com"]) == 1

    assert printed(capsys) == shown_output("nobody@example.com: no Auth0 user")


@pytest.fixture
def local_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalS3]:
    """`--stage local` with its S3 endpoint on this test's port and an empty bucket."""
    for name in (*LocalStage.read().environment, "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    with LocalS3(content=None, bucket=DEFAULT_BUCKET) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint.endpoint_url)
        wiring.clear_caches()
        yield endpoint
    wiring.clear_caches()


def test_content_push_prints_what_the_guide_shows(
    local_s3: LocalS3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Three files for a course whose local catalogue entry lists no lessons yet, as the guide says.
    folder = tmp_path / "pro-membership"
    shutil.copytree(ROOT / "content" / "serverless-handbook", folder)

    assert ops(["--stage", "local", "content", "push", str(folder), "--course", "pro-membership"]) == 0

    assert printed(capsys) == shown_output("would upload (dry run; add --apply)")


def test_spa_publish_refuses_a_stack_whose_cors_would_refuse_the_app_as_the_guide_shows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch, region=REGION)
    with mock_aws():
        spa = deploy_spa_stack(PARAMETERS)  # deployed as step 7 does: CorsAllowOrigin not given yet
        assert spa is not None

        assert ops(["--stack", STACK, "spa", "publish"]) == 2

    [shown] = shown_output("ops: not_configured: CorsAllowOrigin (empty)")
    distribution = re.compile(r"https://\w+\.cloudfront\.net")
    assert capsys.readouterr().err.splitlines() == [distribution.sub(spa.url, shown)]


# --- ops tenant (steps 5 and 9), against a bare sandbox ------------------------------------------------------------

_CLIENT_ID = re.compile(r"\b[A-Za-z0-9]{32}\b")
_ROLE_ID = re.compile(r"\brol_[A-Za-z0-9]{16}\b")


def same_ids(lines: list[str]) -> list[str]:
    """The lines with the ids a bare sandbox makes (different every run) written as one name each."""
    return [_ROLE_ID.sub("rol_<id>", _CLIENT_ID.sub("<client id>", line)) for line in lines]


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """`--stage local` pointed at a sandbox holding only the bootstrap application, as `serve --bare` starts it."""
    with SandboxServer(bare=True, state_path=None) as server:
        for name, value in local_stage().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AUTH0_DOMAIN", server.base_url)
        for name in ("AUTH0_SECRET_ID", "ACCESS_TOKEN_MAX_LIFETIME_SECONDS", "SPA_URL", "AUTH0_ONBOARDING_CLIENT_ID"):
            monkeypatch.delenv(name, raising=False)
        wiring.clear_caches()
        yield server
    wiring.clear_caches()


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


def test_tenant_apply_with_another_spa_url_changes_the_spa_applications_urls_as_the_guide_shows(
    bare: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "courses.json"
    shutil.copy(ROOT / CATALOGUE, catalogue)
    where = ["--catalogue", str(catalogue), "--write-credentials", str(tmp_path / "auth0.env")]
    assert ops(["--stage", "local", "tenant", "apply", *where, "--spa-url", "https://app.example.com"]) == 0
    capsys.readouterr()

    assert ops(["--stage", "local", "tenant", "plan", *where, "--spa-url", "https://d111abc.cloudfront.net"]) == 3

    changes = [line for line in printed(capsys) if line.startswith("~ ")]
    assert same_ids(changes) == same_ids(shown_output('~ update application "gumroad-auth0-gate local SPA"'))
