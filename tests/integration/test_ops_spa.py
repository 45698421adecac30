"""`ops --stack NAME spa publish`: the real `vite build` with the stack's settings, into moto's bucket, with an
invalidation on moto's CloudFront distribution; a dry run changes nothing."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from ops.__main__ import main as ops
from ops.spa_upload import LONG_LIVED, MANIFEST_KEY
from tests.browser.site import VITE, require
from tests.spa_support import API_URL, CLIENT_ID, PARAMETERS, PURCHASE_URL, REGION, STACK, SpaStack, deploy_spa_stack
from tests.spa_support import stored_objects as stored
from tests.unit.ops.test_stack import aws_credentials, clean_environment

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.type_defs import ParameterTypeDef

__all__ = ["clean_environment"]  # the autouse fixture: no AWS configuration or ops setting from this machine


@pytest.fixture(autouse=True)
def vite() -> None:
    require(shutil.which("node") is not None and VITE.exists(), "Node.js or spa/node_modules is missing")


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SpaStack]:
    aws_credentials(monkeypatch, region=REGION)
    with mock_aws():
        # The first deploy cannot know its distribution's domain: the second allows it (docs/spa.md, Hosting).
        spa = deploy_spa_stack(PARAMETERS)
        assert spa is not None
        kept: list[ParameterTypeDef] = [{"ParameterKey": key, "UsePreviousValue": True} for key in PARAMETERS]
        allowed: ParameterTypeDef = {"ParameterKey": "CorsAllowOrigin", "ParameterValue": spa.url}
        boto3.client("cloudformation", region_name=REGION).update_stack(
            StackName=STACK, UsePreviousTemplate=True, Parameters=[*kept, allowed]
        )
        yield spa


def publish(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = ops(["--stack", STACK, "spa", "publish", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def text(bucket: str, key: str) -> str:
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    return str(body.decode("utf-8"))


def invalidated(distribution_id: str) -> list[list[str]]:
    cloudfront = boto3.client("cloudfront", region_name=REGION)
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    answers = [cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"]) for item in listed]
    return [answer["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] for answer in answers]


def test_a_dry_run_builds_with_the_stacks_settings_and_shows_the_upload_without_making_it(
    stack: SpaStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = publish(capsys)

    assert (code, err) == (0, "")
    assert (
        f"spa: built with VITE_AUTH0_DOMAIN=https://shop.eu.auth0.com, VITE_AUTH0_CLIENT_ID={CLIENT_ID}, "
        f"VITE_AUTH0_AUDIENCE=https://courses.shop.example/api, VITE_API_BASE_URL={API_URL.rstrip('/')}, "
        f"VITE_PURCHASE_URL={PURCHASE_URL}\n"
    ) in out
    assert re.search(r"^  index\.html  text/html; charset=utf-8  no-cache$", out, re.M)
    assert re.search(rf"^  assets/index-[\w-]+\.js  text/javascript; charset=utf-8  {LONG_LIVED}$", out, re.M)
    assert out.endswith(f"dry run: nothing uploaded; add --apply to publish {stack.url}\n")
    assert stored(stack.bucket) == {}
    assert invalidated(stack.distribution_id) == []


def test_apply_uploads_an_app_built_for_the_stack_and_invalidates_index_html(
    stack: SpaStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = publish(capsys, "--apply")

    assert (code, err) == (0, "")
    assert out.endswith(f"published: {stack.url}\n")
    objects = stored(stack.bucket)
    page = text(stack.bucket, "index.html")
    [script] = re.findall(r'<script type="module" crossorigin src="/(assets/index-[\w-]+\.js)"></script>', page)
    [styles] = re.findall(r'<link rel="stylesheet" crossorigin href="/(assets/index-[\w-]+\.css)">', page)
    assert objects["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["index.html"]["CacheControl"] == "no-cache"
    assert objects[script]["ContentType"] == "text/javascript; charset=utf-8"
    assert objects[styles]["ContentType"] == "text/css; charset=utf-8"
    assert {objects[key]["CacheControl"] for key in objects if key.startswith("assets/")} == {LONG_LIVED}
    # The app carries the stack's settings, and its token worker is a file of its own (the CSP's worker-src 'self').
    code_text = text(stack.bucket, script)
    for value in ("https://shop.eu.auth0.com", CLIENT_ID, "https://courses.shop.example/api", API_URL, PURCHASE_URL):
        assert value.rstrip("/") in code_text
    [worker] = [key for key in objects if re.fullmatch(r"assets/auth0-spa-js\.worker\.production-[\w-]+\.js", key)]
    assert worker.removeprefix("assets/") in code_text
    assert MANIFEST_KEY in objects
    assert invalidated(stack.distribution_id) == [["/", "/index.html"]]


def test_a_second_publish_replaces_the_app_and_removes_only_the_files_the_first_one_left(
    stack: SpaStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert publish(capsys, "--apply")[0] == 0
    first = set(stored(stack.bucket))
    boto3.client("s3", region_name=REGION).put_object(Bucket=stack.bucket, Key="press-kit.zip", Body=b"kept")

    code, out, _ = publish(capsys, "--apply", "--purchase-url", "https://shop.gumroad.com/l/pro")

    now = set(stored(stack.bucket))
    old_script = {key for key in first - now if key.endswith(".js")}
    assert code == 0
    assert "https://shop.gumroad.com/l/pro" in text(
        stack.bucket, next(iter(k for k in now - first if k.endswith(".js")))
    )
    assert len(old_script) == 1, "the first build's script is gone: its content (the purchase URL) changed"
    assert "press-kit.zip" in now
    assert "removed 2 files of the previous publish:" in out  # the script and its source map
    assert len(invalidated(stack.distribution_id)) == 2
