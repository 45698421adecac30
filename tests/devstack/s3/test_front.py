"""The front as an HTTP server: CORS as a bucket rule states it, S3-shaped answers for what HTTP refuses, logs."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devstack.s3 import LocalS3
from tests.devstack.s3.conftest import LESSON, presign, s3_error

SPA = "http://127.0.0.1:3000"


@pytest.fixture(scope="module")
def with_cors() -> Iterator[LocalS3]:
    with LocalS3(bucket="course-content-cors", cors_origins=(SPA,)) as endpoint:
        endpoint.client().put_object(Bucket=endpoint.bucket, Key=LESSON, Body=b"<p>lesson</p>")
        yield endpoint


def test_a_bucket_without_a_cors_rule_sends_no_cors_headers(local_s3: LocalS3, s3: Any) -> None:
    # moto's server would allow every origin; S3 allows none until a rule says so.
    response = requests.get(presign(s3, local_s3.bucket, LESSON), headers={"Origin": SPA}, timeout=10)

    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_the_allowed_origin_may_read_an_object(with_cors: LocalS3) -> None:
    url = presign(with_cors.client(), with_cors.bucket, LESSON)

    response = requests.get(url, headers={"Origin": SPA}, timeout=10)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert "Content-Range" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]


def test_another_origin_gets_no_allow_origin(with_cors: LocalS3) -> None:
    url = presign(with_cors.client(), with_cors.bucket, LESSON)

    response = requests.get(url, headers={"Origin": "http://evil.example"}, timeout=10)

    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_allowed_origin_can_read_a_refusal_too(with_cors: LocalS3) -> None:
    # So the SPA sees 403 (and renews the URL) instead of an opaque network error.
    response = requests.get(
        f"{with_cors.endpoint_url}/{with_cors.bucket}/{LESSON}", headers={"Origin": SPA}, timeout=10
    )

    assert response.status_code == 403
    assert response.headers["Access-Control-Allow-Origin"] == SPA


def test_a_preflight_from_the_allowed_origin_is_answered_without_credentials(with_cors: LocalS3) -> None:
    response = requests.options(
        f"{with_cors.endpoint_url}/{with_cors.bucket}/{LESSON}",
        headers={"Origin": SPA, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert response.headers["Access-Control-Allow-Headers"] == "range"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
        {"Origin": SPA, "Access-Control-Request-Method": "PUT"},
    ],
)
def test_a_preflight_for_another_origin_or_a_write_is_403(with_cors: LocalS3, headers: dict[str, str]) -> None:
    response = requests.options(f"{with_cors.endpoint_url}/{with_cors.bucket}/{LESSON}", headers=headers, timeout=10)

    assert response.status_code == 403
    assert s3_error(response)["Code"] == "AccessForbidden"


def test_a_preflight_without_an_origin_is_400(with_cors: LocalS3) -> None:
    response = requests.options(f"{with_cors.endpoint_url}/{with_cors.bucket}/{LESSON}", timeout=10)

    assert response.status_code == 400
    assert s3_error(response)["Code"] == "BadRequest"


def test_an_unknown_method_gets_an_s3_error_document_not_html(local_s3: LocalS3) -> None:
    response = requests.request("PATCH", f"{local_s3.endpoint_url}/{local_s3.bucket}/{LESSON}", timeout=10)

    assert response.status_code == 501
    assert s3_error(response)["Code"] == "NotImplemented"


def test_a_malformed_request_line_gets_an_s3_error_document(local_s3: LocalS3) -> None:
    with socket.create_connection(("127.0.0.1", local_s3.port), timeout=10) as connection:
        connection.sendall(b"GET / too many words HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):  # the front closes the connection after a malformed request
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 400")
    assert b"<Code>BadRequest</Code>" in answer
    assert b"\r\nServer: AmazonS3\r\n" in answer


def test_verbose_logs_name_the_path_and_never_the_signature(capsys: pytest.CaptureFixture[str]) -> None:
    with LocalS3(bucket="course-content-logs", quiet=False) as endpoint:
        endpoint.client().put_object(Bucket=endpoint.bucket, Key="a.txt", Body=b"a")
        url = presign(endpoint.client(), endpoint.bucket, "a.txt")
        requests.get(url, timeout=10)
        requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10)
    logged = capsys.readouterr().err

    assert "local-s3 GET /course-content-logs/a.txt 200" in logged
    assert "local-s3 GET /course-content-logs/a.txt 403" in logged
    assert "X-Amz-Signature" not in logged
    assert "X-Amz-Credential" not in logged


def test_the_front_listens_on_loopback_only(local_s3: LocalS3) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", local_s3.port, timeout=10)
    connection.request("GET", "/")
    assert connection.getresponse().status == 403  # unsigned: refused, but answered on 127.0.0.1

    assert local_s3.endpoint_url == f"http://127.0.0.1:{local_s3.port}"
