"""A deployed stage's settings, read from its CloudFormation stack: the parameters and outputs.

The stack is the one source of truth for a deployed stage: `aws cloudformation deploy` was given the
tenant, the secret and the seller id as parameters, and the queues exist only as its resources.
``.chalice/config.json`` holds the settings packaged into every stage (the catalogue file, rate
limits, onboarding), never the deploy-time ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ops.errors import NotConfigured
from ops.placeholders import placeholders_in

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

# Template parameter (.chalice/deploy-resources.json) -> the variable the functions and ops read.
PARAMETERS = {
    "Auth0Domain": "AUTH0_DOMAIN",
    "Auth0Audience": "AUTH0_AUDIENCE",
    "Auth0SecretArn": "AUTH0_SECRET_ID",
    "GumroadSellerId": "GUMROAD_SELLER_ID",
}
OUTPUTS = {
    "PingQueueUrl": "PING_QUEUE_URL",
    "PingDeadLetterQueueUrl": "PING_DEAD_LETTER_QUEUE_URL",
    "GumroadPingUrl": "GUMROAD_PING_URL",
    "ReconcileWatermarkParameter": "RECONCILE_WATERMARK_PARAMETER",
}
# Read when present: a stack deployed before the SPA's hosting or the lessons lacks them, and the SPA's build settings
# and the content prefix may be empty (`spa publish` names what it is missing; no other command needs them). A
# parameter the stack has is its truth even when empty (an empty CorsAllowOrigin is no CORS, whatever the shell says).
# EndpointURL is Chalice's own output.
OPTIONAL_PARAMETERS = {
    "CorsAllowOrigin": "CORS_ALLOW_ORIGIN",
    "SpaClientId": "SPA_CLIENT_ID",
    "SpaPurchaseUrl": "SPA_PURCHASE_URL",
}
OPTIONAL_OUTPUTS = {
    "EndpointURL": "API_URL",
    "SpaUrl": "SPA_URL",
    "SpaBucketName": "SPA_BUCKET",
    "SpaDistributionId": "SPA_DISTRIBUTION_ID",
    "ContentBucketName": "CONTENT_BUCKET",
    "ContentPrefix": "CONTENT_PREFIX",
}
# A stack in one of these states has no usable outputs (creation failed, or it is going away).
_UNUSABLE = frozenset(
    {
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_FAILED",
        "ROLLBACK_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_FAILED",
        "DELETE_COMPLETE",
        "REVIEW_IN_PROGRESS",
    }
)


@dataclass(frozen=True)
class DeployedStack:
    name: str
    status: str
    parameters: Mapping[str, str]
    outputs: Mapping[str, str]

    def settings(self) -> dict[str, str]:
        """The ops settings this stack defines; refuses a stack that lacks one or holds a placeholder."""
        found = {variable: self.parameters.get(key, "") for key, variable in PARAMETERS.items()}
        found.update({variable: self.outputs.get(key, "") for key, variable in OUTPUTS.items()})
        missing = [
            f"{key} ({variable})"
            for key, variable in (*PARAMETERS.items(), *OUTPUTS.items())
            if not found[variable].strip()
        ]
        if missing:
            raise NotConfigured(
                f"stack {self.name} lacks {', '.join(missing)}: deploy it from this checkout's "
                "`make package` output (docs/creator-guide.md, Deploy)"
            )
        bad = placeholders_in(found)
        if bad:
            names = ", ".join(f"{name}={value}" for name, value in bad)
            raise NotConfigured(
                f"stack {self.name} was deployed with placeholder parameters ({names}): deploy it again with "
                "the real values in --parameter-overrides (docs/creator-guide.md, Deploy)"
            )
        settings = {name: value for name, value in found.items() if value.strip()}
        settings.update(
            {variable: self.parameters[key] for key, variable in OPTIONAL_PARAMETERS.items() if key in self.parameters}
        )
        settings.update(
            {variable: self.outputs[key] for key, variable in OPTIONAL_OUTPUTS.items() if key in self.outputs}
        )
        return settings


def read_stack(cloudformation: CloudFormationClient, name: str) -> DeployedStack:
    """``DescribeStacks`` for one stack; a missing or failed stack is a NotConfigured that says so."""
    from botocore.exceptions import ClientError

    try:
        answer = cloudformation.describe_stacks(StackName=name)
    except ClientError as error:
        details = error.response.get("Error", {})
        if details.get("Code") == "ValidationError" and "does not exist" in str(details.get("Message", "")):
            region = cloudformation.meta.region_name
            raise NotConfigured(
                f"no CloudFormation stack named {name!r} in {region}: check --stack and AWS_DEFAULT_REGION"
            ) from None
        raise
    [stack] = answer["Stacks"]
    status = stack["StackStatus"]
    if status in _UNUSABLE:
        raise NotConfigured(f"stack {name} is {status}: it has no usable outputs (see its events in the console)")
    return DeployedStack(
        name=name,
        status=status,
        parameters={item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])},
        outputs={item["OutputKey"]: item.get("OutputValue", "") for item in stack.get("Outputs", [])},
    )
