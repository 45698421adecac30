"""`ops spa publish` refuses, in one line with exit 2 and before building or uploading anything, a stack whose SPA
settings are missing, placeholders or examples, one without the SPA's hosting, and one whose API would refuse the SPA.

The publish itself (the real Vite build into moto's bucket) is tests/integration/test_ops_spa.py.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from ops.__main__ import main as ops
from tests.spa_support import PARAMETERS, STACK, SpaStack, deploy_spa_stack, stored_objects
from tests.unit.ops.test_stack import aws_credentials, clean_environment

__all__ = ["clean_environment"]  # the autouse fixture: no AWS configuration or ops setting from this machine


def publish(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = ops(["--stack", STACK, "spa", "publish", *extra, "--apply"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def deployed(parameters: dict[str, str]) -> SpaStack:
    stack = deploy_spa_stack(parameters)
    assert stack is not None
    return stack


def test_a_stack_without_the_spa_client_id_is_refused_naming_the_parameter_and_the_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        stack = deployed({**PARAMETERS, "SpaClientId": "", "CorsAllowOrigin": "https://placeholder.invalid"})

        code, out, err = publish(capsys)
        assert stored_objects(stack.bucket) == {}

    assert (code, out) == (2, "")
    assert err == (
        "ops: not_configured: cannot build the SPA: VITE_AUTH0_CLIENT_ID is not set (--client-id, or the stack's "
        "SpaClientId parameter)\n"
    )


def test_placeholder_and_example_values_are_refused_each_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        deployed({**PARAMETERS, "SpaClientId": "REPLACE_WITH_SPA_CLIENT_ID"})

        code, _, err = publish(capsys, "--purchase-url", "https://yourname.gumroad.com/l/your-course")

    assert code == 2
    assert len(err.splitlines()) == 1
    assert "VITE_AUTH0_CLIENT_ID is a placeholder, REPLACE_WITH_SPA_CLIENT_ID (--client-id, or the stack's" in err
    assert "VITE_PURCHASE_URL is still the example value https://yourname.gumroad.com/l/your-course" in err


def test_a_stack_whose_api_does_not_allow_the_spas_origin_is_refused_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        stack = deployed({**PARAMETERS, "CorsAllowOrigin": "https://courses.shop.example"})

        code, out, err = publish(capsys)

    assert (code, out) == (2, "")
    assert err == (
        f"ops: not_configured: CorsAllowOrigin (https://courses.shop.example) does not allow the SPA's origin "
        f"{stack.url}: the API would refuse every call the published SPA makes; deploy the stack again with "
        f"--parameter-overrides CorsAllowOrigin={stack.url}\n"
    )


def test_an_empty_cors_allow_origin_is_refused_whatever_the_shell_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        stack = deployed(PARAMETERS)
        monkeypatch.setenv("CORS_ALLOW_ORIGIN", stack.url)

        code, _, err = publish(capsys)

    note, refusal = err.splitlines()
    assert code == 2
    assert note == "ops: note: CORS_ALLOW_ORIGIN is the stack's, not the one in your environment"
    assert refusal.startswith(
        f"ops: not_configured: CorsAllowOrigin (empty) does not allow the SPA's origin {stack.url}"
    )


def test_a_stack_deployed_before_the_spas_hosting_is_told_to_deploy_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_credentials(monkeypatch)
    with mock_aws():
        deploy_spa_stack(PARAMETERS, hosting=False)

        code, _, err = publish(capsys)

    assert code == 2
    assert err == (
        f"ops: not_configured: stack {STACK} has no SpaUrl, SpaBucketName, SpaDistributionId output: it was deployed "
        "without the SPA's hosting; deploy it again from this checkout's `make package` output "
        "(docs/creator-guide.md, Deploy)\n"
    )


def test_without_a_stack_it_says_to_pass_one(capsys: pytest.CaptureFixture[str]) -> None:
    code = ops(["spa", "publish"])

    assert code == 2
    assert capsys.readouterr().err.startswith(
        "ops: not_configured: SPA_URL, SPA_BUCKET, SPA_DISTRIBUTION_ID (the stack's SpaUrl, SpaBucketName, "
        "SpaDistributionId) not set: pass --stack <your stack name>"
    )
