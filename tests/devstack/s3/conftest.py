"""A seeded local S3 endpoint per test module, and the boto3 calls the service will make against it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest import mock
from xml.etree import ElementTree

import pytest
import requests

from devstack.s3 import DEFAULT_KEY, AccessKey, LocalS3, s3_client
from devstack.s3.config import DEFAULT_CONTENT

LESSON = "serverless-handbook/01-what-serverless-means.html"
VIDEO = "serverless-handbook/03-cold-starts.webm"


@pytest.fixture(scope="module")
def local_s3() -> Iterator[LocalS3]:
    with LocalS3(content=DEFAULT_CONTENT) as endpoint:
        yield endpoint


@pytest.fixture
def s3(local_s3: LocalS3) -> Any:
    """boto3's S3 client with the endpoint's own key pair (``s3v4``, path-style, loopback ``endpoint_url``)."""
    return local_s3.client()


def client_with(local_s3: LocalS3, key: AccessKey, *, region: str | None = None) -> Any:
    """A boto3 client for the endpoint signing with ``key`` (and another region when given)."""
    return s3_client(local_s3.endpoint_url, region=region or local_s3.region, key=key)


def presign(client: Any, bucket: str, key: str, *, expires: int = 300, **params: str) -> str:
    return str(
        client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=expires)
    )


def signed_at(moment: datetime) -> Any:
    """Sign as if botocore's clock read ``moment``: an honest signature for that time, not a forged one."""
    return mock.patch("botocore.auth.get_current_datetime", return_value=moment.replace(tzinfo=None))


def content_bytes(key: str) -> bytes:
    return (DEFAULT_CONTENT / key).read_bytes()


def s3_error(response: requests.Response) -> dict[str, str]:
    """S3's XML error document as ``{element: text}``, after checking its shape."""
    assert response.headers["Content-Type"] == "application/xml"
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own endpoint's answer
    assert root.tag == "Error"
    fields = {child.tag: child.text or "" for child in root}
    assert {"Code", "Message", "RequestId", "HostId"} <= fields.keys()
    assert fields["RequestId"] == response.headers["x-amz-request-id"]
    return fields


def with_query_value(url: str, name: str, value: str) -> str:
    """``url`` with one query parameter's raw value replaced (the rest untouched, byte for byte)."""
    base, _, query = url.partition("?")
    parts = [f"{name}={value}" if part.startswith(f"{name}=") else part for part in query.split("&")]
    assert parts != query.split("&"), f"{name} is not in the URL"
    return f"{base}?{'&'.join(parts)}"


def without_query(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base}?{'&'.join(part for part in query.split('&') if not part.startswith(f'{name}='))}"


def query_value(url: str, name: str) -> str:
    for part in url.partition("?")[2].split("&"):
        if part.startswith(f"{name}="):
            return part.split("=", 1)[1]
    raise AssertionError(f"{name} is not in the URL")


OTHER_SECRET = AccessKey(DEFAULT_KEY.access_key_id, "another-secret-entirely")
UNKNOWN_KEY = AccessKey("LOCALS3UNKNOWNKEY000", DEFAULT_KEY.secret_access_key)
