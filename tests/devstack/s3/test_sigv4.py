"""SigV4Verifier without a server: requests signed by boto3/botocore, checked against a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.s3 import DEFAULT_KEY, s3_client
from devstack.s3.errors import S3Error
from devstack.s3.sigv4 import SigV4Verifier, WireRequest
from tests.devstack.s3.conftest import query_value, signed_at, with_query_value

ENDPOINT = "http://127.0.0.1:8788"  # nothing listens: signing is local, and so is checking
SIGNED = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)


def verifier(now: datetime) -> SigV4Verifier:
    return SigV4Verifier(keys=[DEFAULT_KEY], region="us-east-1", clock=lambda: now)


def presigned(key: str = "course/a b.html", expires: int = 300, **params: str) -> str:
    client: Any = s3_client(ENDPOINT, region="us-east-1", key=DEFAULT_KEY)
    with signed_at(SIGNED):
        return str(
            client.generate_presigned_url(
                "get_object", Params={"Bucket": "bucket", "Key": key, **params}, ExpiresIn=expires
            )
        )


def wire(url: str, method: str = "GET", headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> WireRequest:
    parts = urlsplit(url)
    return WireRequest(method, parts.path, parts.query, (("Host", parts.netloc), *headers), body)


def refusal(request: WireRequest, now: datetime = SIGNED) -> S3Error:
    with pytest.raises(S3Error) as refused:
        verifier(now).authenticate(request)
    return refused.value


def test_a_boto3_url_is_authenticated_as_its_key() -> None:
    assert verifier(SIGNED + timedelta(seconds=5)).authenticate(wire(presigned())) == DEFAULT_KEY


def test_the_last_second_of_the_lifetime_is_served_and_the_next_is_not() -> None:
    url = presigned(expires=300)

    assert verifier(SIGNED + timedelta(seconds=300)).authenticate(wire(url)) == DEFAULT_KEY
    assert refusal(wire(url), SIGNED + timedelta(seconds=301)).message == "Request has expired"


def test_a_url_is_valid_up_to_fifteen_minutes_before_its_date_and_not_earlier() -> None:
    # Clocks differ: S3 tolerates fifteen minutes of skew.
    url = presigned()

    assert verifier(SIGNED - timedelta(minutes=15)).authenticate(wire(url)) == DEFAULT_KEY
    assert refusal(wire(url), SIGNED - timedelta(minutes=16)).message == "Request is not yet valid"


def test_a_query_escaped_differently_from_botocore_still_verifies() -> None:
    url = presigned(ResponseContentDisposition='attachment; filename="a.pdf"')
    assert "%3B%20filename%3D%22a.pdf%22" in url
    # What a hand-written client might send: reserved characters left raw, still meaning the same values.
    loose = url.replace("%3B%20filename%3D%22a.pdf%22", ";%20filename=%22a.pdf%22").replace("%2F", "/")

    assert verifier(SIGNED).authenticate(wire(loose)) == DEFAULT_KEY


def test_the_path_is_checked_as_sent_without_normalising_it() -> None:
    url = presigned(key="course/../other/a.html")

    assert verifier(SIGNED).authenticate(wire(url)) == DEFAULT_KEY
    assert refusal(wire(url.replace("/course/../other/", "/other/"))).code == "SignatureDoesNotMatch"


def test_an_added_query_parameter_breaks_the_signature() -> None:
    url = presigned()

    assert refusal(wire(url + "&response-content-type=text%2Fplain")).code == "SignatureDoesNotMatch"


def test_a_repeated_signature_parameter_is_400() -> None:
    url = presigned()

    error = refusal(wire(url + "&X-Amz-Signature=" + query_value(url, "X-Amz-Signature")))

    assert (error.status, error.code) == (400, "AuthorizationQueryParametersError")


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        ("LOCALS3DEVACCESSKEY1/20261206/us-east-1/s3/aws4_request", "Date is not the same as X-Amz-Date"),
        ("LOCALS3DEVACCESSKEY1/20261207/us-east-1/sqs/aws4_request", 'incorrect service "sqs"'),
        ("LOCALS3DEVACCESSKEY1/20261207/us-east-1/s3/aws5_request", 'incorrect terminal "aws5_request"'),
        ("LOCALS3DEVACCESSKEY1/20261207/us-east-1", "the Credential is mal-formed"),
    ],
)
def test_a_credential_out_of_scope_is_400_naming_the_part(credential: str, message: str) -> None:
    error = refusal(wire(with_query_value(presigned(), "X-Amz-Credential", credential)))

    assert (error.status, error.code) == (400, "AuthorizationQueryParametersError")
    assert message in error.message


def test_another_algorithm_is_400() -> None:
    error = refusal(wire(with_query_value(presigned(), "X-Amz-Algorithm", "AWS4-HMAC-SHA512")))

    assert error.message == 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'


def test_a_malformed_date_is_400() -> None:
    error = refusal(wire(with_query_value(presigned(), "X-Amz-Date", "2026-12-07T10:00:00Z")))

    assert (error.status, error.code) == (400, "AuthorizationQueryParametersError")


# --- header-signed --------------------------------------------------------------------------------------------------


def header_signed(body: bytes = b"lesson", headers: dict[str, str] | None = None) -> WireRequest:
    request = AWSRequest(method="PUT", url=f"{ENDPOINT}/bucket/course/a.html", data=body, headers=headers)
    with signed_at(SIGNED):
        S3SigV4Auth(Credentials(DEFAULT_KEY.access_key_id, DEFAULT_KEY.secret_access_key), "s3", "us-east-1").add_auth(
            request
        )
    return wire(str(request.url), "PUT", tuple(request.headers.items()), body)


def test_a_header_signed_request_is_authenticated_as_its_key() -> None:
    assert verifier(SIGNED).authenticate(header_signed()) == DEFAULT_KEY


def test_a_header_the_client_did_not_sign_may_be_added_on_the_way() -> None:
    request = header_signed()
    with_proxy_header = WireRequest(
        request.method, request.path, request.query, (*request.headers, ("X-Forwarded-For", "127.0.0.1")), request.body
    )

    assert verifier(SIGNED).authenticate(with_proxy_header) == DEFAULT_KEY


def test_a_signed_header_changed_on_the_way_breaks_the_signature() -> None:
    request = header_signed(headers={"Content-Type": "text/html"})
    changed = tuple(
        (name, "application/javascript" if name.lower() == "content-type" else value) for name, value in request.headers
    )

    error = refusal(WireRequest(request.method, request.path, request.query, changed, request.body))

    assert error.code == "SignatureDoesNotMatch"


def test_the_sixteenth_minute_of_skew_is_refused() -> None:
    assert verifier(SIGNED + timedelta(minutes=15)).authenticate(header_signed()) == DEFAULT_KEY
    assert refusal(header_signed(), SIGNED + timedelta(minutes=16)).code == "RequestTimeTooSkewed"
