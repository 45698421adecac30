"""The SPA's hosting in the template: a private bucket read only by its CloudFront distribution (origin access
control), HTTPS only, index.html as the root and for a missing file, security headers with a CSP that allows the
tenant and the API and nothing else, and its URL as an output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib.aws.presigned_urls import PresignedUrls
from ops.settings import SPA_HOSTING
from ops.stack import OPTIONAL_OUTPUTS, OPTIONAL_PARAMETERS
from tests.intrinsics import resolve

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / ".chalice" / "deploy-resources.json").read_text())
RESOURCES = TEMPLATE["Resources"]
DISTRIBUTION = RESOURCES["SpaDistribution"]["Properties"]["DistributionConfig"]
HEADERS = RESOURCES["SpaResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
SECURITY = HEADERS["SecurityHeadersConfig"]
THE_DISTRIBUTION = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${SpaDistribution}"}
# AWS's managed cache policy "CachingOptimized": it keeps what the origin's Cache-Control says (within 1 s to a
# year), so publish's headers decide: a year for hashed assets, revalidation for index.html.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# The API's origin as the template's other URLs name it (GumroadPingUrl, Chalice's EndpointURL).
API_ORIGIN = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
DEPLOYED = {
    "Auth0Domain": "shop.eu.auth0.com",
    "RestAPI": "abc123",
    "AWS::Region": "eu-west-1",
    "AWS::URLSuffix": "amazonaws.com",
    "ContentBucket.RegionalDomainName": "lessons-bucket.s3.eu-west-1.amazonaws.com",
}


def csp(values: dict[str, str] = DEPLOYED) -> dict[str, list[str]]:
    """The Content-Security-Policy CloudFront sends, as {directive: sources}, for a deployment with ``values``."""
    policy = resolve(SECURITY["ContentSecurityPolicy"]["ContentSecurityPolicy"], values)
    directives = [directive.split() for directive in policy.split(";")]
    return {name: sources for name, *sources in directives}


def policy_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every policy document in the template (roles' and buckets'), with its resource's name."""

    def walk(name: str, node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            yield from ((name, statement) for statement in node.get("Statement", []) if isinstance(statement, dict))
            for value in node.values():
                yield from walk(name, value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(name, value)

    for name, resource in RESOURCES.items():
        yield from walk(name, resource)


def test_the_bucket_blocks_public_access_takes_no_acls_and_encrypts() -> None:
    bucket = RESOURCES["SpaBucket"]["Properties"]

    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "WebsiteConfiguration" not in bucket, "a website endpoint is public and HTTP only"


def test_the_bucket_refuses_requests_without_tls() -> None:
    statements = RESOURCES["SpaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [no_tls] = [statement for statement in statements if statement["Sid"] == "RefuseRequestsWithoutTls"]

    assert no_tls["Effect"] == "Deny"
    assert no_tls["Principal"] == "*"
    assert no_tls["Action"] == "s3:*"
    assert no_tls["Resource"] == [{"Fn::GetAtt": ["SpaBucket", "Arn"]}, {"Fn::Sub": "${SpaBucket.Arn}/*"}]
    assert no_tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_this_stacks_distribution_may_read_the_bucket_and_only_to_read_the_app() -> None:
    statements = RESOURCES["SpaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = [statement for statement in statements if statement["Effect"] == "Allow"]

    assert {(statement["Action"], json.dumps(statement["Resource"])) for statement in allowed} == {
        ("s3:GetObject", json.dumps({"Fn::Sub": "${SpaBucket.Arn}/*"})),
        # A missing file is then a 404 (S3 says 403 to whoever may not list), which the distribution can answer.
        ("s3:ListBucket", json.dumps({"Fn::GetAtt": ["SpaBucket", "Arn"]})),
    }
    for statement in allowed:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": THE_DISTRIBUTION}}


def test_the_distribution_reaches_the_bucket_through_origin_access_control_not_the_legacy_identity() -> None:
    control = RESOURCES["SpaOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    [origin] = DISTRIBUTION["Origins"]

    assert (control["OriginAccessControlOriginType"], control["SigningBehavior"], control["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SpaOriginAccessControl", "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": ["SpaBucket", "RegionalDomainName"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert not [
        name for name, r in RESOURCES.items() if r.get("Type") == "AWS::CloudFront::CloudFrontOriginAccessIdentity"
    ]


def test_viewers_get_https_only_and_may_only_read() -> None:
    behaviour = DISTRIBUTION["DefaultCacheBehavior"]

    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert "CacheBehaviors" not in DISTRIBUTION, "one behaviour: every path is the app's"


def test_the_root_is_index_html_and_a_missing_file_is_a_404_that_still_shows_the_app() -> None:
    # The SPA's addresses are hash routes (#/courses/<slug>): the browser only ever asks for "/", which the default
    # root object answers. Any other path is no address of the app: it stays a 404 (never a 200 that would make a
    # missing script "load" as HTML), with index.html as its page so a mistyped link still lands in the app. S3
    # answers 403 only when the distribution's own access is broken (it may list the bucket): never masked.
    assert DISTRIBUTION["DefaultRootObject"] == "index.html"
    assert DISTRIBUTION["CustomErrorResponses"] == [
        {"ErrorCode": 404, "ResponseCode": 404, "ResponsePagePath": "/index.html", "ErrorCachingMinTTL": 60}
    ]


def test_caching_follows_what_publish_says_each_file_needs_and_answers_are_compressed() -> None:
    behaviour = DISTRIBUTION["DefaultCacheBehavior"]

    assert behaviour["CachePolicyId"] == CACHING_OPTIMIZED
    assert behaviour["Compress"] is True


def test_every_answer_carries_the_security_headers() -> None:
    assert DISTRIBUTION["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "SpaResponseHeadersPolicy"}
    assert SECURITY["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert SECURITY["ContentTypeOptions"] == {"Override": True}
    assert SECURITY["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert SECURITY["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    assert all(header["Override"] is True for header in SECURITY.values())


def test_the_csp_lets_the_app_run_its_own_code_only_and_talk_to_the_tenant_the_api_and_the_lessons_only() -> None:
    assert csp() == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "worker-src": ["'self'"],
        "connect-src": [
            "https://shop.eu.auth0.com",
            "https://abc123.execute-api.eu-west-1.amazonaws.com",
            "https://lessons-bucket.s3.eu-west-1.amazonaws.com",
        ],
        "media-src": ["https://lessons-bucket.s3.eu-west-1.amazonaws.com"],
        "frame-src": ["https://shop.eu.auth0.com"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }


def test_the_csps_lessons_origin_is_the_host_the_service_signs_lesson_urls_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bucket's RegionalDomainName is BUCKET.s3.REGION.amazonaws.com: the host boto3 signs for (virtual-hosted,
    # regional), so the <video> and the text lesson's fetch reach S3 under the CSP.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "throwaway-secret-for-signing-only")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    signed = PresignedUrls(bucket="lessons-bucket", region="eu-west-1").signed_get(
        "serverless-handbook/01.html", lifetime_seconds=60, content_type=None, content_disposition="inline"
    )

    origin = "https://" + urlsplit(signed).netloc
    assert origin in csp()["connect-src"]
    assert csp()["media-src"] == [origin]
    assert RESOURCES["ContentBucket"]["Type"] == "AWS::S3::Bucket"


@pytest.mark.parametrize("domain", ["login.shop.example", "https://login.shop.example", "https://login.shop.example/"])
def test_the_csp_names_the_tenant_however_auth0domain_is_written(domain: str) -> None:
    # Auth0Domain takes a tenant domain or a custom domain's base URL, as the service does (AUTH0_DOMAIN).
    allowed = csp({**DEPLOYED, "Auth0Domain": domain})

    assert allowed["connect-src"][0] == allowed["frame-src"][0] == "https://login.shop.example"


def test_the_csps_api_is_the_api_gumroad_pings_and_the_spa_is_built_for() -> None:
    connect = SECURITY["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"][0]

    assert f" {API_ORIGIN} " in connect
    assert TEMPLATE["Outputs"]["GumroadPingUrl"]["Value"]["Fn::Sub"].startswith(f"{API_ORIGIN}/api/")
    assert OPTIONAL_OUTPUTS["EndpointURL"] == "API_URL", "what publish builds the SPA with (Chalice's output)"


def test_no_policy_statement_in_the_template_grants_or_names_a_wildcard_resource() -> None:
    for name, statement in policy_statements():
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            assert resource != "*", f"{name} {statement.get('Sid')}"
            text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else resource
            assert not str(text).endswith(":*"), f"{name} {statement.get('Sid')}: {text}"


def test_the_spas_url_is_an_output_without_a_trailing_slash_and_publish_reads_its_home_from_outputs() -> None:
    outputs = TEMPLATE["Outputs"]

    assert outputs["SpaUrl"]["Value"] == {"Fn::Sub": "https://${SpaDistribution.DomainName}"}
    assert outputs["SpaBucketName"]["Value"] == {"Ref": "SpaBucket"}
    assert outputs["SpaDistributionId"]["Value"] == {"Ref": "SpaDistribution"}
    assert {OPTIONAL_OUTPUTS[output]: output for output in SPA_HOSTING.values()} == dict(SPA_HOSTING)
    assert set(OPTIONAL_PARAMETERS) <= set(TEMPLATE["Parameters"])
