"""The operator commands' own error types: each says what to set or fix, in one line."""

from __future__ import annotations

from chalicelib.errors import ServiceError


class InvalidOption(ServiceError):
    """A command-line value is wrong (the operator's typo, not the deployment's configuration)."""

    code = "invalid_option"


class NotConfigured(ServiceError):
    """A setting the command needs is unset or still a placeholder."""

    code = "not_configured"


class AwsNotConfigured(ServiceError):
    """boto3 has no region or no credentials."""

    code = "aws_not_configured"


class AwsRefused(ServiceError):
    """An AWS API answered with an error, or could not be reached."""

    code = "aws_error"


class SpaBuildFailed(ServiceError):
    """`npm ci` or `vite build` failed while publishing the SPA."""

    code = "spa_build_failed"


class Auth0Refused(ServiceError):
    """The Auth0 Management API refused a call `ops tenant` made, or could not be reached."""

    code = "auth0_error"
