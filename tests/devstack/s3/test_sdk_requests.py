"""Header-signed SDK calls (``Authorization: AWS4-HMAC-SHA256``): boto3 uploads and lists; forgeries write nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from devstack.s3 import DEFAULT_KEY, LocalS3
from devstack.s3.config import DEFAULT_CONTENT
from devstack.s3.seed import object_keys
from tests.devstack.s3.conftest import (
    LESSON,
    OTHER_SECRET,
    UNKNOWN_KEY,
    client_with,
    content_bytes,
    presign,
    s3_error,
    signed_at,
)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"], exc.value.response["Error"]["Code"]


def exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise
    return True


def signed_put(local_s3: LocalS3, key: str, body: bytes, *, signer: type[SigV4Auth] = S3SigV4Auth) -> AWSRequest:
    """A PutObject request signed by botocore for ``body`` (sent as is, or with another body by the test)."""
    request = AWSRequest(method="PUT", url=f"{local_s3.endpoint_url}/{local_s3.bucket}/{key}", data=body)
    credentials = Credentials(DEFAULT_KEY.access_key_id, DEFAULT_KEY.secret_access_key)
    signer(credentials, "s3", local_s3.region).add_auth(request)
    return request


def send(request: AWSRequest, *, body: bytes | None = None, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.request(
        str(request.method),
        str(request.url),
        headers={**dict(request.headers.items()), **(headers or {})},
        data=request.body if body is None else body,
        timeout=10,
    )


# --- accepted -------------------------------------------------------------------------------------------------------


def test_the_bucket_was_seeded_through_the_front_with_every_content_file(local_s3: LocalS3, s3: Any) -> None:
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket=local_s3.bucket)["Contents"]]

    assert listed == list(object_keys(DEFAULT_CONTENT)) == local_s3.seeded


def test_an_upload_with_boto3_is_then_served_by_a_presigned_url(local_s3: LocalS3, s3: Any) -> None:
    s3.put_object(Bucket=local_s3.bucket, Key="pro-membership/notes.txt", Body=b"new lesson notes")

    response = requests.get(presign(s3, local_s3.bucket, "pro-membership/notes.txt"), timeout=10)

    assert (response.status_code, response.content) == (200, b"new lesson notes")


def test_upload_file_sends_a_multipart_upload_that_is_verified_part_by_part(
    local_s3: LocalS3, s3: Any, tmp_path: Any
) -> None:
    from boto3.s3.transfer import TransferConfig

    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 24 * 1024)  # 6 MiB: two parts of at least 5 MiB's threshold
    s3.upload_file(
        str(big), local_s3.bucket, "pro-membership/big.bin", Config=TransferConfig(multipart_threshold=5 * 1024**2)
    )

    response = requests.get(presign(s3, local_s3.bucket, "pro-membership/big.bin"), timeout=30)

    assert hashlib.sha256(response.content).hexdigest() == hashlib.sha256(big.read_bytes()).hexdigest()


# --- refused, and nothing written -----------------------------------------------------------------------------------


def test_an_upload_signed_with_another_secret_is_403_and_writes_nothing(local_s3: LocalS3, s3: Any) -> None:
    with pytest.raises(ClientError) as refused:
        client_with(local_s3, OTHER_SECRET).put_object(Bucket=local_s3.bucket, Key="planted.html", Body=b"x")

    assert error_code(refused) == (403, "SignatureDoesNotMatch")
    assert not exists(s3, local_s3.bucket, "planted.html")


def test_an_upload_by_an_unknown_key_is_403_invalid_access_key_id(local_s3: LocalS3, s3: Any) -> None:
    with pytest.raises(ClientError) as refused:
        client_with(local_s3, UNKNOWN_KEY).put_object(Bucket=local_s3.bucket, Key="planted.html", Body=b"x")

    assert error_code(refused) == (403, "InvalidAccessKeyId")
    assert not exists(s3, local_s3.bucket, "planted.html")


def test_a_delete_signed_with_another_secret_leaves_the_object(local_s3: LocalS3, s3: Any) -> None:
    with pytest.raises(ClientError) as refused:
        client_with(local_s3, OTHER_SECRET).delete_object(Bucket=local_s3.bucket, Key=LESSON)

    assert error_code(refused) == (403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=local_s3.bucket, Key=LESSON)["Body"].read() == content_bytes(LESSON)


def test_a_body_other_than_the_signed_one_is_400_and_writes_nothing(local_s3: LocalS3, s3: Any) -> None:
    request = signed_put(local_s3, "swapped.html", b"the reviewed lesson")

    response = send(request, body=b"something else entirely")

    assert response.status_code == 400
    error = s3_error(response)
    assert error["Code"] == "XAmzContentSHA256Mismatch"
    assert error["S3ComputedContentSHA256"] == hashlib.sha256(b"something else entirely").hexdigest()
    assert not exists(s3, local_s3.bucket, "swapped.html")


def test_the_signed_request_itself_is_accepted(local_s3: LocalS3, s3: Any) -> None:
    # The control for the test above: the same construction, body unchanged, is written.
    response = send(signed_put(local_s3, "reviewed.html", b"the reviewed lesson"))

    assert response.status_code == 200
    assert s3.get_object(Bucket=local_s3.bucket, Key="reviewed.html")["Body"].read() == b"the reviewed lesson"


def test_a_request_signed_twenty_minutes_ago_is_403_request_time_too_skewed(local_s3: LocalS3, s3: Any) -> None:
    with signed_at(datetime.now(UTC) - timedelta(minutes=20)):
        request = signed_put(local_s3, "late.html", b"late")

    response = send(request)

    assert response.status_code == 403
    assert s3_error(response)["Code"] == "RequestTimeTooSkewed"
    assert not exists(s3, local_s3.bucket, "late.html")


def test_a_header_signed_request_without_a_payload_hash_is_400(local_s3: LocalS3) -> None:
    # Generic SigV4 (not S3's) signs without x-amz-content-sha256, which S3 requires.
    response = send(signed_put(local_s3, "no-hash.html", b"x", signer=SigV4Auth))

    assert response.status_code == 400
    assert s3_error(response)["Message"] == "Missing required header for this request: x-amz-content-sha256"


def test_a_chunk_signed_upload_is_501_not_implemented(local_s3: LocalS3) -> None:
    request = signed_put(local_s3, "chunked.html", b"x")

    response = send(request, headers={"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"})

    assert response.status_code == 501
    assert s3_error(response)["Code"] == "NotImplemented"


def test_a_body_without_content_length_is_411(local_s3: LocalS3) -> None:
    request = signed_put(local_s3, "chunked.html", b"x")

    response = requests.put(
        str(request.url), headers=dict(request.headers.items()), data=iter([b"x"]), timeout=10
    )  # a generator body goes out with Transfer-Encoding: chunked

    assert response.status_code == 411
    assert s3_error(response)["Code"] == "MissingContentLength"


def test_both_a_header_and_a_query_signature_is_400_invalid_argument(local_s3: LocalS3, s3: Any) -> None:
    url = presign(s3, local_s3.bucket, LESSON)
    request = signed_put(local_s3, "x.html", b"x")

    response = requests.get(url, headers={"Authorization": request.headers["Authorization"]}, timeout=10)

    assert response.status_code == 400
    assert s3_error(response)["Code"] == "InvalidArgument"


def test_a_signature_version_2_header_is_refused_as_unsupported(local_s3: LocalS3) -> None:
    response = requests.get(
        f"{local_s3.endpoint_url}/{local_s3.bucket}/{LESSON}",
        headers={"Authorization": f"AWS {DEFAULT_KEY.access_key_id}:c2lnbmF0dXJl"},
        timeout=10,
    )

    assert response.status_code == 400
    assert s3_error(response)["Code"] == "InvalidRequest"


def test_a_malformed_authorization_header_is_400(local_s3: LocalS3) -> None:
    response = requests.get(
        f"{local_s3.endpoint_url}/{local_s3.bucket}/{LESSON}",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=only", "x-amz-date": "20261207T000000Z"},
        timeout=10,
    )

    assert response.status_code == 400
    assert s3_error(response)["Code"] == "AuthorizationHeaderMalformed"


def test_a_correctly_signed_call_to_another_bucket_is_403(local_s3: LocalS3) -> None:
    with pytest.raises(ClientError) as refused:
        local_s3.client().create_bucket(Bucket="someone-elses-bucket")

    assert error_code(refused) == (403, "AccessDenied")


def test_moto_s_own_api_is_not_reachable_through_the_front(local_s3: LocalS3) -> None:
    # A signed request to /moto-api/reset would wipe the emulator if it were forwarded.
    request = AWSRequest(method="POST", url=f"{local_s3.endpoint_url}/moto-api/reset", data=b"")
    S3SigV4Auth(Credentials(DEFAULT_KEY.access_key_id, DEFAULT_KEY.secret_access_key), "s3", local_s3.region).add_auth(
        request
    )

    response = send(request)

    assert response.status_code == 403
    assert local_s3.client().head_object(Bucket=local_s3.bucket, Key=LESSON)["ContentLength"] > 0


def test_an_upload_scoped_to_another_region_is_400_naming_the_right_one(local_s3: LocalS3, s3: Any) -> None:
    request = AWSRequest(method="PUT", url=f"{local_s3.endpoint_url}/{local_s3.bucket}/elsewhere.html", data=b"x")
    credentials = Credentials(DEFAULT_KEY.access_key_id, DEFAULT_KEY.secret_access_key)
    S3SigV4Auth(credentials, "s3", "eu-west-1").add_auth(request)

    response = send(request)

    assert response.status_code == 400
    error = s3_error(response)
    assert (error["Code"], error["Region"]) == ("AuthorizationHeaderMalformed", local_s3.region)
    assert not exists(s3, local_s3.bucket, "elsewhere.html")


def test_boto3_in_another_region_re_signs_for_the_region_the_error_names(local_s3: LocalS3, s3: Any) -> None:
    # botocore's S3 region redirector reads <Region> from that 400 and retries, as it does against S3.
    client_with(local_s3, DEFAULT_KEY, region="eu-west-1").put_object(
        Bucket=local_s3.bucket, Key="redirected.html", Body=b"x"
    )

    assert exists(s3, local_s3.bucket, "redirected.html")
