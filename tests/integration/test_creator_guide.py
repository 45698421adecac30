"""The outputs the creator's guide shows as captured against the Auth0 sandbox and the local S3 endpoint are what the
commands print today: `check`, `explain` after a sale and for an unknown address, `resend --apply`, `content push`;
and `spa publish`'s refusal of a stack whose CORS would refuse the app, against moto. (`ops tenant`'s:
test_creator_guide_tenant.py.)"""

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
from tests.integration.test_ops_check import run_check
from tests.integration.test_ops_check import stage as stage  # the fixture: `--stage local`'s variables, undone after
from tests.spa_support import PARAMETERS, REGION, STACK, deploy_spa_stack
from tests.unit.ops.test_stack import aws_credentials
from tests.unit.ops.test_stack import clean_environment as clean_environment  # autouse: no AWS settings of this machine
from tests.unit.test_creator_guide import shown_output

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
