"""boto3 signs S3 URLs without the network: what issue 18's lesson URLs rely on (no call on the private path)."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config


def test_creating_the_client_and_signing_urls_makes_no_network_call(
    lambda_role: None, network_attempts: list[str]
) -> None:
    client = boto3.session.Session().client("s3", config=Config(signature_version="s3v4"))
    urls = [
        client.generate_presigned_url(
            "get_object",
            Params={"Bucket": "course-content", "Key": f"serverless-handbook/lesson-{number}.html"},
            ExpiresIn=300,
        )
        for number in range(3)
    ]

    assert network_attempts == []
    query = parse_qs(urlsplit(urls[0]).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Security-Token"] == ["test-session-token"]  # the role's session: the URL dies with it
    assert query["X-Amz-Credential"][0].startswith("ASIATESTEXAMPLE00000/")
    assert query["X-Amz-Credential"][0].endswith("/us-east-1/s3/aws4_request")
    # us-east-1 keeps S3's global host unless the client asks for the regional one (see bench/presign.py).
    assert urlsplit(urls[0]).netloc == "course-content.s3.amazonaws.com"


def test_the_guard_does_see_a_network_call(network_attempts: list[str]) -> None:
    # Guards the test above: a blocked call is recorded, so an empty list means none was made.
    with pytest.raises(OSError, match="network blocked"):
        socket.create_connection(("127.0.0.1", 9))

    assert network_attempts
