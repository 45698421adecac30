"""A deployed stack that hosts the SPA, in moto: the real template's parameters, queues and SPA bucket, and a
CloudFront distribution made through CloudFront's API (moto's CloudFormation cannot make one)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((ROOT / ".chalice" / "deploy-resources.json").read_text(encoding="utf-8"))
REGION = "eu-west-1"
STACK = "gumroad-auth0-gate-prod"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/"
CLIENT_ID = "Xq3VbN8sT0pL2mW5rY7uZ1aC4dE6fG9h"
PURCHASE_URL = "https://shop.gumroad.com/l/handbook"
PARAMETERS = {
    "Auth0Domain": "shop.eu.auth0.com",
    "Auth0Audience": "https://courses.shop.example/api",
    "Auth0SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gumroad-auth0-gate/prod-AbCdEf",
    "GumroadSellerId": "kL0psVL2admJSYRNs-OCMg==",
    "SpaClientId": CLIENT_ID,
    "SpaPurchaseUrl": PURCHASE_URL,
}


@dataclass(frozen=True)
class SpaStack:
    url: str
    bucket: str
    distribution_id: str


def deploy_spa_stack(parameters: dict[str, str], *, hosting: bool = True) -> SpaStack | None:
    """Create the stack (``hosting=False``: as deployed before the SPA's hosting existed); its SPA's home, if any."""
    resources = {
        name: TEMPLATE["Resources"][name] for name in ("PingQueue", "PingDeadLetterQueue", "ReconcileWatermark")
    }
    outputs = {
        name: TEMPLATE["Outputs"][name]
        for name in ("PingQueueUrl", "PingDeadLetterQueueUrl", "ReconcileWatermarkParameter")
    }
    outputs["GumroadPingUrl"] = {"Value": API_URL + "gumroad/ping"}
    # Chalice's own output, as `chalice package` writes it (with the RestAPI's id resolved).
    outputs["EndpointURL"] = {"Value": API_URL}
    distribution: dict[str, Any] | None = None
    if hosting:
        distribution = _distribution()
        resources["SpaBucket"] = TEMPLATE["Resources"]["SpaBucket"]
        outputs["SpaBucketName"] = TEMPLATE["Outputs"]["SpaBucketName"]
        outputs["SpaUrl"] = {"Value": f"https://{distribution['DomainName']}"}
        outputs["SpaDistributionId"] = {"Value": distribution["Id"]}
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps({"Parameters": TEMPLATE["Parameters"], "Resources": resources, "Outputs": outputs}),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
    )
    if distribution is None:
        return None
    [stack] = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    found = {item["OutputKey"]: item["OutputValue"] for item in stack["Outputs"]}
    return SpaStack(url=found["SpaUrl"], bucket=found["SpaBucketName"], distribution_id=found["SpaDistributionId"])


def _distribution() -> dict[str, Any]:
    config = {
        "CallerReference": "spa",
        "Comment": "",
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "SpaBucket",
                    "DomainName": f"spa.s3.{REGION}.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {"TargetOriginId": "SpaBucket", "ViewerProtocolPolicy": "redirect-to-https"},
    }
    made: dict[str, Any] = boto3.client("cloudfront", region_name=REGION).create_distribution(DistributionConfig=config)
    return dict(made["Distribution"])


def stored_objects(bucket: str) -> dict[str, dict[str, Any]]:
    """Every object in ``bucket`` with its HEAD answer (ContentType, CacheControl...)."""
    s3 = boto3.client("s3", region_name=REGION)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: dict(s3.head_object(Bucket=bucket, Key=item["Key"])) for item in listed}
