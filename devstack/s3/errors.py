"""S3's refusals as types, and the XML error document S3 answers them with."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from xml.etree import ElementTree

from devstack.s3.config import MAX_CLOCK_SKEW_SECONDS, MAX_PRESIGNED_EXPIRES_SECONDS

XML_TYPE = "application/xml"
_ISO8601 = "%Y-%m-%dT%H:%M:%SZ"


class S3Error(Exception):
    """A refusal: S3's status, error code and message, and the extra elements S3 adds for that code."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def document(self, request_id: str) -> bytes:
        """``<Error><Code/><Message/>...<RequestId/><HostId/></Error>``, as S3 writes it."""
        root = ElementTree.Element("Error")
        for name, value in (("Code", self.code), ("Message", self.message), *self.details.items()):
            ElementTree.SubElement(root, name).text = value
        ElementTree.SubElement(root, "RequestId").text = request_id
        ElementTree.SubElement(root, "HostId").text = host_id()
        body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def request_id() -> str:
    """An id in S3's form (16 upper-case hex digits), sent as ``x-amz-request-id`` and in error documents."""
    return secrets.token_hex(8).upper()


def host_id() -> str:
    return base64.b64encode(secrets.token_bytes(48)).decode("ascii")


def iso8601(moment: datetime) -> str:
    return moment.strftime(_ISO8601)


# --- no credentials, or credentials S3 does not know ---------------------------------------------------------------


def access_denied() -> S3Error:
    return S3Error(403, "AccessDenied", "Access Denied")


def invalid_access_key_id(access_key_id: str) -> S3Error:
    return S3Error(
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        AWSAccessKeyId=access_key_id,
    )


def invalid_token() -> S3Error:
    return S3Error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")


def signature_does_not_match(
    access_key_id: str, string_to_sign: str, signature: str, canonical_request: str
) -> S3Error:
    # S3 returns what it signed so a client can find its mistake; none of it is secret.
    return S3Error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        AWSAccessKeyId=access_key_id,
        StringToSign=string_to_sign,
        SignatureProvided=signature,
        CanonicalRequest=canonical_request,
    )


# --- time -----------------------------------------------------------------------------------------------------------


def request_expired(expires_seconds: int, expired_at: datetime, now: datetime) -> S3Error:
    return S3Error(
        403,
        "AccessDenied",
        "Request has expired",
        **{"X-Amz-Expires": str(expires_seconds), "Expires": iso8601(expired_at), "ServerTime": iso8601(now)},
    )


def request_not_yet_valid(signed_at: datetime, expires_at: datetime, now: datetime) -> S3Error:
    return S3Error(
        403,
        "AccessDenied",
        "Request is not yet valid",
        **{"X-Amz-Date": iso8601(signed_at), "Expires": iso8601(expires_at), "ServerTime": iso8601(now)},
    )


def missing_date() -> S3Error:
    return S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")


def request_time_too_skewed(signed_at: datetime, now: datetime) -> S3Error:
    return S3Error(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        RequestTime=iso8601(signed_at),
        ServerTime=iso8601(now),
        MaxAllowedSkewMilliseconds=str(MAX_CLOCK_SKEW_SECONDS * 1000),
    )


# --- malformed authentication ---------------------------------------------------------------------------------------


def query_parameters_error(message: str, **details: str) -> S3Error:
    return S3Error(400, "AuthorizationQueryParametersError", message, **details)


def missing_query_parameters() -> S3Error:
    return query_parameters_error(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
        "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
    )


def expires_not_a_number() -> S3Error:
    return query_parameters_error("X-Amz-Expires should be a number")


def expires_negative() -> S3Error:
    return query_parameters_error("X-Amz-Expires must be non-negative")


def expires_over_a_week() -> S3Error:
    return query_parameters_error(
        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than "
        f"{MAX_PRESIGNED_EXPIRES_SECONDS} seconds"
    )


def header_malformed(message: str, **details: str) -> S3Error:
    return S3Error(400, "AuthorizationHeaderMalformed", message, **details)


def unsupported_mechanism() -> S3Error:
    return S3Error(
        400,
        "InvalidRequest",
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    )


def two_mechanisms() -> S3Error:
    return S3Error(
        400,
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
        "parameter or the Authorization header should be specified",
        ArgumentName="Authorization",
    )


# --- the body of a header-signed request ----------------------------------------------------------------------------


def missing_content_sha256() -> S3Error:
    return S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")


def content_sha256_mismatch(claimed: str, computed: str) -> S3Error:
    return S3Error(
        400,
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ClientComputedContentSHA256=claimed,
        S3ComputedContentSHA256=computed,
    )


def streaming_signature_not_implemented() -> S3Error:
    # aws-chunked bodies (per-chunk signatures, or checksum trailers) are not decoded here; botocore sends
    # trailers only over TLS (httpchecksum.py), and this endpoint is plain HTTP on loopback.
    return S3Error(
        501,
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
        Header="x-amz-content-sha256",
    )


def missing_content_length() -> S3Error:
    return S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")


def entity_too_large(limit: int) -> S3Error:
    return S3Error(
        400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", MaxSizeAllowed=str(limit)
    )


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)


def cors_refused() -> S3Error:
    return S3Error(
        403,
        "AccessForbidden",
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
        "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
        "resource's CORS spec.",
    )


def emulator_unavailable() -> S3Error:
    return S3Error(503, "ServiceUnavailable", "Service is unable to handle request.")
