"""Publishing a built SPA (moto S3 and CloudFront): content types, caching, order, leftovers, the invalidation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ops.spa_upload import (
    INVALIDATED,
    LONG_LIVED,
    MANIFEST_KEY,
    REVALIDATE,
    BucketClient,
    InvalidationClient,
    built_files,
    plan,
    publish,
    published_before,
)

REGION = "eu-west-1"
BUCKET = "gumroad-auth0-gate-prod-spabucket-1x2y3z"
# What `vite build` writes (spa/dist), named as it names them.
BUILD = {
    "index.html": '<script type="module" src="/assets/index-C6x9_tNi.js"></script>',
    "assets/index-C6x9_tNi.js": "console.log('app')",
    "assets/index-C6x9_tNi.js.map": "{}",
    "assets/index-Tmtft22u.css": "body{}",
    "assets/auth0-spa-js.worker.production-BL8lCFPx.js": "self.onmessage=()=>{}",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    """A bucket and a distribution in moto: (s3, cloudfront, the distribution's id)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        cloudfront = boto3.client("cloudfront", region_name=REGION)
        yield s3, cloudfront, new_distribution(cloudfront)


def new_distribution(cloudfront: Any) -> str:
    origin = {"Id": "SpaBucket", "DomainName": f"{BUCKET}.s3.{REGION}.amazonaws.com"}
    config = {
        "CallerReference": "test",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{**origin, "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "SpaBucket", "ViewerProtocolPolicy": "redirect-to-https"},
    }
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def write_build(folder: Path, files: dict[str, str]) -> Path:
    for key, text in files.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_text(text, encoding="utf-8")
    return folder


def objects(s3: Any) -> dict[str, dict[str, Any]]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"]: s3.head_object(Bucket=BUCKET, Key=item["Key"]) for item in listed}


def publish_build(s3: BucketClient, cloudfront: InvalidationClient, distribution: str, folder: Path) -> str:
    chosen = plan(built_files(folder), published_before(s3, BUCKET))
    return publish(chosen, s3=s3, cloudfront=cloudfront, bucket=BUCKET, distribution_id=distribution)


def test_hashed_assets_go_first_and_are_cached_for_a_year_and_index_html_last_and_revalidated(tmp_path: Path) -> None:
    files = built_files(write_build(tmp_path, BUILD))

    assert [file.key for file in files][-1] == "index.html"
    assert all(file.key.startswith("assets/") for file in files[:-1])
    caching = {file.key: file.cache_control for file in files}
    assert caching.pop("index.html") == REVALIDATE == "no-cache"
    assert set(caching.values()) == {LONG_LIVED}
    assert LONG_LIVED == "public, max-age=31536000, immutable"


def test_each_file_gets_the_content_type_a_browser_needs_to_use_it(tmp_path: Path) -> None:
    extra = {"robots.txt": "", "assets/logo-1a2b.svg": "<svg/>", "assets/font-3c4d.woff2": "", "assets/x-5e6f.bin": ""}
    types = {file.key: file.content_type for file in built_files(write_build(tmp_path, {**BUILD, **extra}))}

    assert types == {
        "index.html": "text/html; charset=utf-8",
        "assets/index-C6x9_tNi.js": "text/javascript; charset=utf-8",
        "assets/auth0-spa-js.worker.production-BL8lCFPx.js": "text/javascript; charset=utf-8",
        "assets/index-C6x9_tNi.js.map": "application/json",
        "assets/index-Tmtft22u.css": "text/css; charset=utf-8",
        "robots.txt": "text/plain; charset=utf-8",
        "assets/logo-1a2b.svg": "image/svg+xml",
        "assets/font-3c4d.woff2": "font/woff2",
        "assets/x-5e6f.bin": "application/octet-stream",
    }


def test_a_first_publish_uploads_every_file_with_its_headers_and_invalidates_index_html(
    aws: tuple[Any, Any, str], tmp_path: Path
) -> None:
    s3, cloudfront, distribution = aws

    invalidation = publish_build(s3, cloudfront, distribution, write_build(tmp_path, BUILD))

    stored = objects(s3)
    assert set(stored) == {*BUILD, MANIFEST_KEY}
    assert stored["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert stored["index.html"]["CacheControl"] == "no-cache"
    assert stored["assets/index-C6x9_tNi.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert stored["assets/index-C6x9_tNi.js"]["CacheControl"] == LONG_LIVED
    body = s3.get_object(Bucket=BUCKET, Key="assets/index-Tmtft22u.css")["Body"].read()
    assert body == b"body{}"
    made = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation)["Invalidation"]
    assert made["InvalidationBatch"]["Paths"]["Items"] == list(INVALIDATED) == ["/", "/index.html"]


def test_a_later_publish_removes_the_files_the_previous_one_uploaded_and_this_one_lacks(
    aws: tuple[Any, Any, str], tmp_path: Path
) -> None:
    s3, cloudfront, distribution = aws
    publish_build(s3, cloudfront, distribution, write_build(tmp_path / "first", BUILD))
    newer = {key: text for key, text in BUILD.items() if "index-C6x9_tNi" not in key}
    newer |= {
        "assets/index-D7y0_uOj.js": "console.log('new')",
        "index.html": '<script src="/assets/index-D7y0_uOj.js">',
    }

    chosen = plan(built_files(write_build(tmp_path / "second", newer)), published_before(s3, BUCKET))
    publish(chosen, s3=s3, cloudfront=cloudfront, bucket=BUCKET, distribution_id=distribution)

    assert chosen.remove == ("assets/index-C6x9_tNi.js", "assets/index-C6x9_tNi.js.map")
    assert set(objects(s3)) == {*newer, MANIFEST_KEY}
    assert s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read().decode() == newer["index.html"]
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=MANIFEST_KEY)["Body"].read())["keys"] == [
        file.key for file in chosen.upload
    ]


def test_a_file_no_publish_put_in_the_bucket_is_never_removed(aws: tuple[Any, Any, str], tmp_path: Path) -> None:
    s3, cloudfront, distribution = aws
    s3.put_object(Bucket=BUCKET, Key="press-kit.zip", Body=b"the creator's own")
    publish_build(s3, cloudfront, distribution, write_build(tmp_path / "first", BUILD))

    publish_build(s3, cloudfront, distribution, write_build(tmp_path / "second", {"index.html": "<p>new</p>"}))

    assert set(objects(s3)) == {"index.html", "press-kit.zip", MANIFEST_KEY}


def test_before_the_first_publish_nothing_was_published(aws: tuple[Any, Any, str]) -> None:
    s3, _, _ = aws

    assert published_before(s3, BUCKET) == []


def test_the_plan_says_what_it_would_upload_and_remove(tmp_path: Path) -> None:
    chosen = plan(built_files(write_build(tmp_path, {"index.html": "<p>"})), ["assets/old-1.js", "index.html"])

    lines = list(chosen.describe(BUCKET, done=False))

    assert lines == [
        f"spa: would upload 1 file (3 B) to s3://{BUCKET}",
        "  index.html  text/html; charset=utf-8  no-cache",
        "spa: would remove 1 file of the previous publish:",
        "  assets/old-1.js",
    ]
