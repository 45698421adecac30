"""PresignedUrls: boto3's generate_presigned_url for the lessons' bucket, signed locally for the bucket's region."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.aws.presigned_urls import PresignedUrls, s3_client
from chalicelib.errors import ContentUnavailable


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@pytest.mark.usefixtures("lambda_role")
def test_a_url_is_signed_for_the_bucket_and_region_with_the_answer_headers_asked_for(
    network_attempts: list[str],
) -> None:
    urls = PresignedUrls(bucket="course-content-eu", region="eu-west-1")

    url = urls.signed_get(
        "courses/handbook/01.html",
        lifetime_seconds=300,
        content_type="text/html; charset=utf-8",
        content_disposition="inline",
    )

    parts = urlsplit(url)
    query = query_of(url)
    assert network_attempts == []
    assert parts.scheme == "https"
    assert parts.netloc == "course-content-eu.s3.eu-west-1.amazonaws.com"
    assert parts.path == "/courses/handbook/01.html"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].endswith("/eu-west-1/s3/aws4_request")
    assert query["X-Amz-Expires"] == "300"
    assert query["X-Amz-Security-Token"] == "test-session-token"
    assert query["response-content-type"] == "text/html; charset=utf-8"
    assert query["response-content-disposition"] == "inline"
    assert query["X-Amz-SignedHeaders"] == "host"


@pytest.mark.usefixtures("lambda_role")
def test_a_download_asks_s3_for_its_disposition_and_leaves_the_stored_type() -> None:
    urls = PresignedUrls(bucket="course-content", region="us-east-1")

    url = urls.signed_get(
        "handbook/checklist.pdf",
        lifetime_seconds=3600,
        content_type=None,
        content_disposition='attachment; filename="checklist.pdf"',
    )

    query = query_of(url)
    assert urlsplit(url).netloc == "course-content.s3.us-east-1.amazonaws.com", "the regional host, as elsewhere"
    assert query["response-content-disposition"] == 'attachment; filename="checklist.pdf"'
    assert "response-content-type" not in query
    assert query["X-Amz-Expires"] == "3600"


@pytest.mark.usefixtures("lambda_role")
def test_the_client_is_built_on_the_first_url_and_kept_for_the_container() -> None:
    built: list[str] = []

    def factory(region: str) -> Any:
        built.append(region)
        return s3_client(region)

    urls = PresignedUrls(bucket="course-content", region="us-east-2", client_factory=factory)
    assert built == [], "nothing is built before a URL is asked for"

    first = urls.signed_get("a/1.html", lifetime_seconds=60, content_type=None, content_disposition="inline")
    second = urls.signed_get("a/2.html", lifetime_seconds=60, content_type=None, content_disposition="inline")

    assert built == ["us-east-2"]
    assert urlsplit(first).path != urlsplit(second).path


def test_without_credentials_no_url_is_made_and_the_error_says_so_without_detail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    # No instance metadata either: botocore would otherwise try 169.254.169.254.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    urls = PresignedUrls(bucket="course-content", region="us-east-1")

    with pytest.raises(ContentUnavailable) as raised:
        urls.signed_get("a/1.html", lifetime_seconds=60, content_type=None, content_disposition="inline")

    assert raised.value.detail == "NoCredentialsError"
    assert raised.value.code == "temporarily_unavailable"
    assert "a/1.html" not in raised.value.message
