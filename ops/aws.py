"""AWS for the operator commands: every boto3 client they use, and boto3's failures as one line that says what to set.

Each client comes from a session checked first (a region and credentials, or one line naming what to set). The
service's own secret is read by ``chalicelib.wiring``'s Secrets Manager client, which ``ops.settings`` checks with
``ready()`` before any command reaches it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, cast

from chalicelib.errors import ServiceError
from ops.errors import AwsNotConfigured, AwsRefused

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

    from ops.spa_upload import InvalidationClient

NO_REGION = (
    "no AWS region: set AWS_DEFAULT_REGION (e.g. export AWS_DEFAULT_REGION=eu-west-1), or a region in "
    "the profile AWS_PROFILE names"
)
NO_CREDENTIALS = (
    "no AWS credentials: set AWS_PROFILE to a configured profile (aws configure, aws sso login) or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


def honour_aws_region(environ: MutableMapping[str, str]) -> None:
    """Let AWS_REGION name the region, as the AWS CLI v2 does.

    botocore reads only AWS_DEFAULT_REGION (and the profile's ``region``); AWS_REGION counts for
    it only inside Lambda. An operator who exported AWS_REGION for the CLI means the same region.
    """
    region = environ.get("AWS_REGION", "").strip()
    if region and not environ.get("AWS_DEFAULT_REGION", "").strip():
        environ["AWS_DEFAULT_REGION"] = region


def ready() -> Session:
    """boto3's session, once it has a region and credentials; else one line that says what to set."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session()
        if not session.region_name:
            raise AwsNotConfigured(NO_REGION)
        credentials = session.get_credentials()
    except BotoCoreError as error:  # ProfileNotFound, a broken config file, an expired SSO session...
        raise AwsNotConfigured(f"{error}") from None
    if credentials is None:
        raise AwsNotConfigured(NO_CREDENTIALS)
    return session


def sqs() -> SQSClient:
    return ready().client("sqs")


def ssm() -> SSMClient:
    return ready().client("ssm")


def s3() -> Any:
    """S3 for ``content push`` and ``spa publish`` (which types it as ``ops.spa_upload.BucketClient``);
    ``AWS_ENDPOINT_URL_S3`` (the local stage's) points it at the local endpoint."""
    return ready().client("s3")


def cloudformation() -> CloudFormationClient:
    return ready().client("cloudformation")


def cloudfront() -> InvalidationClient:
    return cast("InvalidationClient", ready().client("cloudfront"))


def secretsmanager() -> SecretsManagerClient:
    return ready().client("secretsmanager")


def as_service_error(error: Exception) -> ServiceError | None:
    """boto3's exception as one of ours, or None when it is not an AWS failure."""
    if not type(error).__module__.startswith(("botocore", "boto3")):
        return None
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(error, NoRegionError):
        return AwsNotConfigured(NO_REGION)
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return AwsNotConfigured(NO_CREDENTIALS)
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        operation = error.operation_name or "a request"
        code = details.get("Code", "Unknown")
        return AwsRefused(f"AWS refused {operation}: {code}: {details.get('Message', '')}".rstrip(": "))
    if isinstance(error, BotoCoreError):
        return AwsRefused(f"AWS failed: {error}")
    return None
