"""A local S3 endpoint that verifies SigV4 signatures and expiry as S3 does, in front of moto's server."""

from devstack.s3.config import DEFAULT_BUCKET, DEFAULT_KEY, DEFAULT_PORT, DEFAULT_REGION, AccessKey
from devstack.s3.endpoint import LocalS3, client_config, s3_client

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_KEY",
    "DEFAULT_PORT",
    "DEFAULT_REGION",
    "AccessKey",
    "LocalS3",
    "client_config",
    "s3_client",
]
