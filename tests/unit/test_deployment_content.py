"""The content bucket in the template: private, encrypted, versioned, TLS only; the API reads lessons, nothing else."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.catalogue import MAX_PREFIX_BYTES, prefix_problem
from chalicelib.config.content_settings import (
    DEFAULT_URL_LIFETIME_SECONDS,
    MAX_URL_LIFETIME_SECONDS,
    MIN_URL_LIFETIME_SECONDS,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / ".chalice" / "deploy-resources.json").read_text())
RESOURCES = TEMPLATE["Resources"]
LESSONS_ARN = "arn:${AWS::Partition}:s3:::${ContentBucket}/${ContentPrefix}*"
BUCKET_AND_OBJECTS = [{"Fn::GetAtt": ["ContentBucket", "Arn"]}, {"Fn::Sub": "${ContentBucket.Arn}/*"}]


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every policy document in ``template`` (roles, inline and bucket policies), by resource."""

    def walk(name: str, node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            if "Statement" in node:
                for statement in node["Statement"]:
                    yield name, statement
            for value in node.values():
                yield from walk(name, value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(name, value)

    for name, resource in template["Resources"].items():
        yield from walk(name, resource)


def resource_texts(statement: dict[str, Any]) -> list[str]:
    """What a statement's Resource says, as text: plain ARNs, Fn::Sub strings, Ref/GetAtt names."""
    resources = statement.get("Resource", statement.get("NotResource"))
    listed: list[Any] = resources if isinstance(resources, list) else [resources]
    texts = []
    for resource in listed:
        if isinstance(resource, str):
            texts.append(resource)
        elif "Fn::Sub" in resource:
            texts.append(resource["Fn::Sub"])
        else:
            texts.append(json.dumps(resource))
    return texts


def test_the_content_bucket_blocks_public_access_takes_no_acls_encrypts_and_keeps_versions() -> None:
    bucket = RESOURCES["ContentBucket"]
    properties = bucket["Properties"]

    assert bucket["Type"] == "AWS::S3::Bucket"
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [encryption] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # SSE-S3: a pre-signed GET needs no kms:Decrypt, so the API's grant stays one action.
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    # A course outlives a stack: deleting or replacing the stack keeps the lessons.
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    [rule] = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 7, "an overwritten lesson can be brought back"


def test_the_content_bucket_refuses_every_request_without_tls_or_over_old_tls() -> None:
    policy = RESOURCES["ContentBucketPolicy"]["Properties"]
    statements = {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}

    assert policy["Bucket"] == {"Ref": "ContentBucket"}
    assert {statement["Effect"] for statement in statements.values()} == {"Deny"}, "the policy only takes away"
    without_tls = statements["RefuseRequestsWithoutTls"]
    assert without_tls["Principal"] == "*"
    assert without_tls["Action"] == "s3:*"
    assert without_tls["Resource"] == BUCKET_AND_OBJECTS
    assert without_tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    old_tls = statements["RefuseTlsOlderThan12"]
    assert old_tls["Resource"] == BUCKET_AND_OBJECTS
    assert old_tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


def test_only_the_api_may_touch_the_bucket_and_only_to_read_objects_under_the_content_prefix() -> None:
    grants = [
        (name, statement)
        for name, statement in policy_statements(TEMPLATE)
        if statement["Effect"] == "Allow"
        and any("s3" in str(action) for action in _actions(statement))
        and not _names_only_the_spa_bucket(statement)
    ]

    assert grants == [
        (
            "ApiHandlerRole",
            {
                "Sid": "SignLessonUrls",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": {"Fn::Sub": LESSONS_ARN},
            },
        )
    ]


def _names_only_the_spa_bucket(statement: dict[str, Any]) -> bool:
    # The SPA's own bucket and the CloudFront read it allows are held by test_deployment_spa.py.
    resource = json.dumps(statement.get("Resource"))
    return "SpaBucket" in resource and "ContentBucket" not in resource


def test_the_api_signs_for_the_bucket_prefix_and_lifetime_the_stack_was_given() -> None:
    variables = RESOURCES["APIHandler"]["Properties"]["Environment"]["Variables"]
    lifetime = TEMPLATE["Parameters"]["ContentUrlLifetimeSeconds"]

    assert variables["CONTENT_BUCKET"] == {"Ref": "ContentBucket"}
    assert variables["CONTENT_PREFIX"] == {"Ref": "ContentPrefix"}
    assert variables["CONTENT_URL_LIFETIME_SECONDS"] == {"Ref": "ContentUrlLifetimeSeconds"}
    # Minutes, far below any role session: a URL signed with the role's credentials dies with the session.
    assert (lifetime["Default"], lifetime["MaxValue"]) == (DEFAULT_URL_LIFETIME_SECONDS, MAX_URL_LIFETIME_SECONDS)
    assert lifetime["MinValue"] >= MIN_URL_LIFETIME_SECONDS
    assert TEMPLATE["Outputs"]["ContentBucketName"] == {"Value": {"Ref": "ContentBucket"}}
    assert TEMPLATE["Outputs"]["ContentPrefix"] == {"Value": {"Ref": "ContentPrefix"}}
    for name, statement in policy_statements(TEMPLATE):
        if name in ("ProcessPingRole", "ReconcileRole"):
            assert not any(action.startswith("s3:") for action in _actions(statement)), name


@pytest.mark.parametrize("prefix", ["", "courses/", "courses/2026/", "a_b-c.d/"])
def test_the_content_prefix_may_be_empty_or_folders(prefix: str) -> None:
    assert re.fullmatch(TEMPLATE["Parameters"]["ContentPrefix"]["AllowedPattern"], prefix)


@pytest.mark.parametrize("prefix", ["courses", "/courses/", "*", "courses/*", "../", "./", ".hidden/", "a//", "a b/"])
def test_a_content_prefix_that_would_widen_or_break_the_grant_is_refused_by_cloudformation(prefix: str) -> None:
    # The prefix ends the grant's ARN before its one "*": a wildcard or a missing "/" would widen it.
    assert not re.fullmatch(TEMPLATE["Parameters"]["ContentPrefix"]["AllowedPattern"], prefix)


@pytest.mark.parametrize(
    "prefix",
    ["", "courses/", "a/b/c/", "x.y/", "courses", "/", "*", "a*/", "../", ".a/", "a//", "é/", "a b/", "-a_/", "a/.b/"],
)
def test_the_template_and_the_service_agree_on_what_a_content_prefix_may_be(prefix: str) -> None:
    allowed_by_cloudformation = re.fullmatch(TEMPLATE["Parameters"]["ContentPrefix"]["AllowedPattern"], prefix)

    assert (allowed_by_cloudformation is not None) == (prefix_problem(prefix) is None), prefix
    assert TEMPLATE["Parameters"]["ContentPrefix"]["MaxLength"] == MAX_PREFIX_BYTES


def test_the_spa_may_read_lessons_across_origins_only_when_the_stack_names_its_origin() -> None:
    cors = RESOURCES["ContentBucket"]["Properties"]["CorsConfiguration"]
    condition, (rules,), absent = cors["Fn::If"][0], cors["Fn::If"][1]["CorsRules"], cors["Fn::If"][2]

    assert condition == "HasCorsAllowOrigin"
    named = {"Fn::Not": [{"Fn::Equals": [{"Ref": "CorsAllowOrigin"}, ""]}]}
    assert TEMPLATE["Conditions"]["HasCorsAllowOrigin"] == named
    assert absent == {"Ref": "AWS::NoValue"}
    assert rules["AllowedOrigins"] == [{"Ref": "CorsAllowOrigin"}]
    assert sorted(rules["AllowedMethods"]) == ["GET", "HEAD"], "reads only: a browser never writes"


def test_no_statement_in_the_packaged_template_names_a_wildcard_resource(packaged_template: dict[str, Any]) -> None:
    checked = 0
    for name, statement in policy_statements(packaged_template):
        if "Resource" not in statement and "NotResource" not in statement:
            continue  # a trust policy names a principal, not a resource
        for text in resource_texts(statement):
            checked += 1
            assert text != "*", f"{name} {statement.get('Sid')}: Resource *"
            # A "*" only ever ends an object path inside one named bucket (the lessons' or the SPA's): never in a
            # service, region, account or bucket name.
            for position in (match.start() for match in re.finditer(r"\*", text)):
                assert position == len(text) - 1, f"{name} {statement.get('Sid')}: {text}"
                assert text.startswith(
                    ("arn:${AWS::Partition}:s3:::${ContentBucket}/", "${ContentBucket.Arn}/", "${SpaBucket.Arn}/")
                ), text
    assert checked >= 10


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return actions if isinstance(actions, list) else [actions]
