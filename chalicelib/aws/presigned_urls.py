"""S3 pre-signed GET URLs through boto3's ``generate_presigned_url``: the lessons' URLs (``access.lesson_urls``).

boto3 is imported, and its client built, on the first URL a container signs, never before: the routes that sign
nothing (``GET /courses``, a refused request) never load it. Signing is computation only (SigV4 over the
credentials the environment holds: a Lambda role's arrive as variables, no metadata call); where the endpoint is
(``AWS_ENDPOINT_URL_S3``, the local stack's S3) is boto3's own setting, unknown to this code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from chalicelib.errors import ContentUnavailable


def s3_client(region: str) -> Any:
    """An S3 client that signs with Signature Version 4 for the bucket's ``region``, for the bucket's regional host
    (``BUCKET.s3.REGION.amazonaws.com``). By default boto3 pre-signs for the global host ``BUCKET.s3.amazonaws.com``,
    which S3 answers for a bucket outside us-east-1 with a redirect (for a day after the bucket is made) that a
    ``<video>`` or ``fetch`` with the signature cannot follow. An endpoint given by address (``AWS_ENDPOINT_URL_S3``
    on loopback) is addressed path-style by botocore whatever this asks."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4", s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}
    )
    return boto3.session.Session().client("s3", region_name=region, config=config)


class PresignedUrls:
    """Signs GET URLs for objects of one bucket; the client is built on first use and kept for the container."""

    def __init__(self, *, bucket: str, region: str, client_factory: Callable[[str], Any] = s3_client) -> None:
        self._bucket = bucket
        self._region = region
        self._client_factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()

    def signed_get(self, key: str, *, lifetime_seconds: int, content_type: str | None, content_disposition: str) -> str:
        from botocore.exceptions import BotoCoreError

        params = {"Bucket": self._bucket, "Key": key, "ResponseContentDisposition": content_disposition}
        if content_type is not None:
            params["ResponseContentType"] = content_type
        try:
            url = self._s3().generate_presigned_url("get_object", Params=params, ExpiresIn=lifetime_seconds)
        except BotoCoreError as error:  # no credentials in the environment, a region botocore cannot resolve...
            raise ContentUnavailable(type(error).__name__) from None
        return str(url)

    def _s3(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._client_factory(self._region)
            return self._client
