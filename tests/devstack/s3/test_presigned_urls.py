"""Pre-signed URLs made by boto3, opened over HTTP as a browser opens them: served when S3 would, refused as S3 does."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.s3 import DEFAULT_KEY, AccessKey, LocalS3
from devstack.s3.config import DEFAULT_CONTENT
from devstack.s3.seed import object_keys
from tests.devstack.s3.conftest import (
    LESSON,
    OTHER_SECRET,
    UNKNOWN_KEY,
    VIDEO,
    client_with,
    content_bytes,
    presign,
    query_value,
    s3_error,
    signed_at,
    with_query_value,
    without_query,
)


def changed(signature: str, position: int = 10) -> str:
    """The signature with one hex digit changed."""
    digit = "0" if signature[position] != "0" else "1"
    return signature[:position] + digit + signature[position + 1 :]


# --- served ---------------------------------------------------------------------------------------------------------


def test_a_url_from_generate_presigned_url_returns_the_lesson_bytes(local_s3: LocalS3, s3: Any) -> None:
    response = requests.get(presign(s3, local_s3.bucket, LESSON), timeout=10)

    assert response.status_code == 200
    assert response.content == content_bytes(LESSON)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == str(len(content_bytes(LESSON)))


@pytest.mark.parametrize("key", list(object_keys(DEFAULT_CONTENT)))
def test_every_file_under_content_is_served_byte_for_byte(local_s3: LocalS3, s3: Any, key: str) -> None:
    response = requests.get(presign(s3, local_s3.bucket, key), timeout=10)

    assert response.status_code == 200
    assert response.content == content_bytes(key)


def test_a_range_request_answers_206_with_exactly_those_bytes(local_s3: LocalS3, s3: Any) -> None:
    video = content_bytes(VIDEO)

    response = requests.get(presign(s3, local_s3.bucket, VIDEO), headers={"Range": "bytes=100-1123"}, timeout=10)

    assert response.status_code == 206
    assert response.content == video[100:1124]
    assert response.headers["Content-Range"] == f"bytes 100-1123/{len(video)}"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_a_video_can_seek_with_many_ranges_on_one_kept_alive_connection(local_s3: LocalS3, s3: Any) -> None:
    video = content_bytes(VIDEO)
    url = presign(s3, local_s3.bucket, VIDEO)
    with requests.Session() as browser:
        answers = [browser.get(url, headers={"Range": f"bytes={start}-"}, timeout=10) for start in (0, 5000, 20000)]

    assert [answer.status_code for answer in answers] == [206, 206, 206]
    assert [answer.content for answer in answers] == [video, video[5000:], video[20000:]]
    assert all(answer.headers.get("Connection", "").lower() != "close" for answer in answers)


def test_head_answers_the_object_headers_without_a_body(local_s3: LocalS3, s3: Any) -> None:
    url = s3.generate_presigned_url("head_object", Params={"Bucket": local_s3.bucket, "Key": VIDEO}, ExpiresIn=60)

    response = requests.head(url, timeout=10)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == str(len(content_bytes(VIDEO)))
    assert response.headers["Content-Type"] == "video/webm"
    assert response.headers["ETag"]


def test_response_overrides_in_the_signed_url_set_disposition_and_type(local_s3: LocalS3, s3: Any) -> None:
    key = "serverless-handbook/02-deployment-checklist.pdf"
    url = presign(
        s3,
        local_s3.bucket,
        key,
        ResponseContentDisposition='attachment; filename="checklist.pdf"',
        ResponseContentType="application/octet-stream",
    )

    response = requests.get(url, timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="checklist.pdf"'
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.content == content_bytes(key)


def test_a_missing_key_is_404_no_such_key_for_a_correctly_signed_url(local_s3: LocalS3, s3: Any) -> None:
    response = requests.get(presign(s3, local_s3.bucket, "serverless-handbook/missing.html"), timeout=10)

    assert response.status_code == 404
    assert s3_error(response)["Code"] == "NoSuchKey"


def test_temporary_credentials_sign_urls_that_carry_and_check_their_session_token() -> None:
    role = AccessKey("LOCALS3TEMPORARYKEY1", "temporary-secret", session_token="session-token-of-the-role")
    with LocalS3(bucket="course-content-role", keys=(DEFAULT_KEY, role)) as endpoint:
        endpoint.client().put_object(Bucket=endpoint.bucket, Key="a/b.txt", Body=b"lesson")
        url = presign(endpoint.client(role), endpoint.bucket, "a/b.txt")

        served = requests.get(url, timeout=10)
        other_token = requests.get(with_query_value(url, "X-Amz-Security-Token", "another-token"), timeout=10)
        no_token = requests.get(without_query(url, "X-Amz-Security-Token"), timeout=10)

    assert query_value(url, "X-Amz-Security-Token") == "session-token-of-the-role"
    assert (served.status_code, served.content) == (200, b"lesson")
    assert (other_token.status_code, s3_error(other_token)["Code"]) == (400, "InvalidToken")
    assert (no_token.status_code, s3_error(no_token)["Code"]) == (403, "InvalidAccessKeyId")


# --- refused: forged or altered -------------------------------------------------------------------------------------


def test_one_character_of_the_signature_changed_is_403_signature_does_not_match(local_s3: LocalS3, s3: Any) -> None:
    url = presign(s3, local_s3.bucket, LESSON)

    response = requests.get(
        with_query_value(url, "X-Amz-Signature", changed(query_value(url, "X-Amz-Signature"))), timeout=10
    )

    assert response.status_code == 403
    error = s3_error(response)
    assert error["Code"] == "SignatureDoesNotMatch"
    assert error["Message"].startswith("The request signature we calculated does not match")
    assert error["AWSAccessKeyId"] == DEFAULT_KEY.access_key_id
    assert error["CanonicalRequest"].splitlines()[:2] == ["GET", f"/{local_s3.bucket}/{LESSON}"]
    assert content_bytes(LESSON) not in response.content


def test_a_url_signed_with_another_secret_key_is_403(local_s3: LocalS3) -> None:
    url = presign(client_with(local_s3, OTHER_SECRET), local_s3.bucket, LESSON)

    response = requests.get(url, timeout=10)

    assert response.status_code == 403
    assert s3_error(response)["Code"] == "SignatureDoesNotMatch"


def test_a_url_signed_by_an_unknown_access_key_is_403_invalid_access_key_id(local_s3: LocalS3) -> None:
    response = requests.get(presign(client_with(local_s3, UNKNOWN_KEY), local_s3.bucket, LESSON), timeout=10)

    assert response.status_code == 403
    error = s3_error(response)
    assert (error["Code"], error["AWSAccessKeyId"]) == ("InvalidAccessKeyId", UNKNOWN_KEY.access_key_id)


def test_a_signature_for_one_key_does_not_open_another(local_s3: LocalS3, s3: Any) -> None:
    url = presign(s3, local_s3.bucket, LESSON)

    response = requests.get(url.replace(LESSON, "pro-membership/01-welcome-to-pro.html"), timeout=10)

    assert response.status_code == 403
    assert s3_error(response)["Code"] == "SignatureDoesNotMatch"


def test_a_lengthened_lifetime_breaks_the_signature(local_s3: LocalS3, s3: Any) -> None:
    url = presign(s3, local_s3.bucket, LESSON, expires=60)

    response = requests.get(with_query_value(url, "X-Amz-Expires", "604800"), timeout=10)

    assert response.status_code == 403
    assert s3_error(response)["Code"] == "SignatureDoesNotMatch"


def test_a_correctly_signed_url_for_a_missing_key_is_refused_as_forged_not_404(local_s3: LocalS3, s3: Any) -> None:
    # Only a valid signature learns whether a key exists.
    url = presign(s3, local_s3.bucket, "serverless-handbook/missing.html")

    response = requests.get(
        with_query_value(url, "X-Amz-Signature", changed(query_value(url, "X-Amz-Signature"))), timeout=10
    )

    assert response.status_code == 403
    assert s3_error(response)["Code"] == "SignatureDoesNotMatch"


def test_a_get_url_used_to_delete_or_overwrite_is_refused_and_writes_nothing(local_s3: LocalS3, s3: Any) -> None:
    url = presign(s3, local_s3.bucket, LESSON)

    deleted = requests.delete(url, timeout=10)
    overwritten = requests.put(url, data=b"defaced", timeout=10)

    assert (deleted.status_code, s3_error(deleted)["Code"]) == (403, "SignatureDoesNotMatch")
    assert (overwritten.status_code, s3_error(overwritten)["Code"]) == (403, "SignatureDoesNotMatch")
    assert requests.get(url, timeout=10).content == content_bytes(LESSON)


def test_a_forged_upload_url_writes_nothing(local_s3: LocalS3, s3: Any) -> None:
    key = "serverless-handbook/planted.html"
    url = s3.generate_presigned_url("put_object", Params={"Bucket": local_s3.bucket, "Key": key}, ExpiresIn=60)

    response = requests.put(
        with_query_value(url, "X-Amz-Signature", changed(query_value(url, "X-Amz-Signature"))),
        data=b"<script>planted</script>",
        timeout=10,
    )

    assert response.status_code == 403
    assert requests.get(presign(s3, local_s3.bucket, key), timeout=10).status_code == 404


# --- refused: time --------------------------------------------------------------------------------------------------


def test_a_url_past_its_expires_in_is_403_request_has_expired(local_s3: LocalS3, s3: Any) -> None:
    url = presign(s3, local_s3.bucket, LESSON, expires=1)
    time.sleep(2.1)  # X-Amz-Date has whole seconds: two more make sure the second allowed is over

    response = requests.get(url, timeout=10)

    assert response.status_code == 403
    error = s3_error(response)
    assert (error["Code"], error["Message"]) == ("AccessDenied", "Request has expired")
    assert error["X-Amz-Expires"] == "1"
    assert datetime.strptime(error["Expires"], "%Y-%m-%dT%H:%M:%SZ") < datetime.strptime(
        error["ServerTime"], "%Y-%m-%dT%H:%M:%SZ"
    )


def test_a_url_signed_two_hours_ago_for_one_hour_has_expired(local_s3: LocalS3, s3: Any) -> None:
    with signed_at(datetime.now(UTC) - timedelta(hours=2)):
        url = presign(s3, local_s3.bucket, LESSON, expires=3600)

    response = requests.get(url, timeout=10)

    assert response.status_code == 403
    assert s3_error(response)["Message"] == "Request has expired"


def test_a_url_signed_an_hour_ahead_is_not_yet_valid(local_s3: LocalS3, s3: Any) -> None:
    with signed_at(datetime.now(UTC) + timedelta(hours=1)):
        url = presign(s3, local_s3.bucket, LESSON, expires=600)

    response = requests.get(url, timeout=10)

    assert response.status_code == 403
    error = s3_error(response)
    assert (error["Code"], error["Message"]) == ("AccessDenied", "Request is not yet valid")


def test_a_url_signed_for_a_lifetime_over_seven_days_is_400(local_s3: LocalS3, s3: Any) -> None:
    response = requests.get(presign(s3, local_s3.bucket, LESSON, expires=604_801), timeout=10)

    assert response.status_code == 400
    error = s3_error(response)
    assert error["Code"] == "AuthorizationQueryParametersError"
    assert "X-Amz-Expires must be less than a week" in error["Message"]


def test_seven_days_exactly_is_the_longest_lifetime_served(local_s3: LocalS3, s3: Any) -> None:
    response = requests.get(presign(s3, local_s3.bucket, LESSON, expires=604_800), timeout=10)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("expires", "message"),
    [("soon", "X-Amz-Expires should be a number"), ("-5", "X-Amz-Expires must be non-negative")],
)
def test_a_malformed_expires_is_400_authorization_query_parameters_error(
    local_s3: LocalS3, s3: Any, expires: str, message: str
) -> None:
    url = presign(s3, local_s3.bucket, LESSON)

    response = requests.get(with_query_value(url, "X-Amz-Expires", expires), timeout=10)

    assert response.status_code == 400
    assert (s3_error(response)["Code"], s3_error(response)["Message"]) == (
        "AuthorizationQueryParametersError",
        message,
    )


# --- refused: no or incomplete authentication -----------------------------------------------------------------------


def test_a_request_without_any_signature_is_403_access_denied(local_s3: LocalS3) -> None:
    response = requests.get(f"{local_s3.endpoint_url}/{local_s3.bucket}/{LESSON}", timeout=10)

    assert response.status_code == 403
    error = s3_error(response)
    assert (error["Code"], error["Message"]) == ("AccessDenied", "Access Denied")


def test_an_unsigned_head_is_403_without_a_body(local_s3: LocalS3) -> None:
    response = requests.head(f"{local_s3.endpoint_url}/{local_s3.bucket}/{LESSON}", timeout=10)

    assert (response.status_code, response.content) == (403, b"")


@pytest.mark.parametrize("parameter", ["X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Algorithm"])
def test_a_url_missing_an_authentication_parameter_is_400(local_s3: LocalS3, s3: Any, parameter: str) -> None:
    response = requests.get(without_query(presign(s3, local_s3.bucket, LESSON), parameter), timeout=10)

    assert response.status_code == 400
    assert s3_error(response)["Code"] == "AuthorizationQueryParametersError"


def test_a_url_scoped_to_another_region_is_400_naming_the_right_one(local_s3: LocalS3) -> None:
    url = presign(client_with(local_s3, DEFAULT_KEY, region="eu-west-1"), local_s3.bucket, LESSON)

    response = requests.get(url, timeout=10)

    assert response.status_code == 400
    error = s3_error(response)
    assert error["Code"] == "AuthorizationQueryParametersError"
    assert error["Region"] == local_s3.region


def test_a_signature_version_2_url_is_refused_as_unsupported(local_s3: LocalS3) -> None:
    import boto3
    from botocore.config import Config

    legacy = boto3.session.Session().client(
        "s3",
        endpoint_url=local_s3.endpoint_url,
        region_name=local_s3.region,
        aws_access_key_id=DEFAULT_KEY.access_key_id,
        aws_secret_access_key=DEFAULT_KEY.secret_access_key,
        config=Config(signature_version="s3", s3={"addressing_style": "path"}),
    )

    response = requests.get(presign(legacy, local_s3.bucket, LESSON), timeout=10)

    assert response.status_code == 400
    assert s3_error(response)["Code"] == "InvalidRequest"


def test_a_client_configured_only_by_the_environment_signs_urls_the_endpoint_serves(
    local_s3: LocalS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # How a local stage can point the service at this endpoint without chalicelib knowing: botocore reads
    # AWS_ENDPOINT_URL_S3 and addresses an IP endpoint path-style by itself.
    import boto3
    from botocore.config import Config

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", local_s3.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DEFAULT_KEY.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DEFAULT_KEY.secret_access_key)
    monkeypatch.setenv("AWS_REGION", local_s3.region)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    service_client = boto3.session.Session().client("s3", config=Config(signature_version="s3v4"))

    url = presign(service_client, local_s3.bucket, LESSON)
    response = requests.get(url, timeout=10)

    assert url.startswith(f"{local_s3.endpoint_url}/{local_s3.bucket}/")
    assert (response.status_code, response.content) == (200, content_bytes(LESSON))
