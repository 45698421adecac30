"""The local S3 endpoint's defaults and S3's own limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

HOST = "127.0.0.1"  # loopback only, never configurable: anyone holding the dev key could write
DEFAULT_PORT = 8788
DEFAULT_REGION = "us-east-1"
DEFAULT_BUCKET = "course-content-local"
DEFAULT_CONTENT = REPOSITORY / "content"
# The stand-in's own key pair: public dev values, never an AWS account's (the id is not in AWS's AKIA/ASIA form).
DEFAULT_ACCESS_KEY_ID = "LOCALS3DEVACCESSKEY1"
DEFAULT_SECRET_ACCESS_KEY = "local-s3-dev-secret-not-a-real-secret"  # noqa: S105 - a public dev value
SECRET_ENVIRONMENT_VARIABLE = "DEVSTACK_S3_SECRET_ACCESS_KEY"  # noqa: S105 - a variable name

# S3's limits (Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)").
MAX_PRESIGNED_EXPIRES_SECONDS = 604_800  # seven days: a SigV4 signing key lives no longer
MAX_CLOCK_SKEW_SECONDS = 900  # RequestTimeTooSkewed past 15 minutes
# A local bucket for course samples; S3's own single-PUT limit (5 GB) would only let a mistake fill the memory.
MAX_UPLOAD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class AccessKey:
    """A key pair the endpoint accepts; ``session_token`` set for temporary credentials (a role's)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # the secret and token never reach a log line or a failed assertion
        return f"AccessKey(access_key_id={self.access_key_id!r}, secret_access_key=***)"


DEFAULT_KEY = AccessKey(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)
