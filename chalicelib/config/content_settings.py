"""The lessons' settings: the bucket and folder that hold their objects, its region, how long a signed URL lasts."""

from __future__ import annotations

import string
from collections.abc import Mapping

from chalicelib.catalogue import prefix_problem
from chalicelib.config.environment import number, optional
from chalicelib.errors import ConfigurationError

DEFAULT_URL_LIFETIME_SECONDS = 300
# A URL signed with a Lambda role's credentials stops working when the role's session ends, whatever it asks for:
# minutes keep it far below any session (the template's ContentUrlLifetimeSeconds has the same bounds, 60 at least).
MAX_URL_LIFETIME_SECONDS = 3600
MIN_URL_LIFETIME_SECONDS = 10
# S3's bucket names: 3 to 63 lower-case letters, digits, dots and hyphens, a letter or digit at each end.
_BUCKET_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + ".-")
_BUCKET_ENDS = frozenset(string.ascii_lowercase + string.digits)


class ContentSettings:
    """Where the lessons' objects are, and for how long their URLs are signed. Built once, never changed."""

    __slots__ = ("bucket", "prefix", "region", "url_lifetime_seconds")

    def __init__(self, *, bucket: str, prefix: str, region: str, url_lifetime_seconds: int) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.url_lifetime_seconds = url_lifetime_seconds


def load_content_settings(environ: Mapping[str, str]) -> ContentSettings:
    """Read and validate the lessons' settings (only a course with lessons needs them).

    Raises
    ------
    ConfigurationError
        Naming the variable that is missing or invalid.
    """
    bucket = optional(environ, "CONTENT_BUCKET")
    if bucket is None:
        raise ConfigurationError(
            "CONTENT_BUCKET is not set: the catalogue lists lessons, and their objects' bucket is unknown"
        )
    if not (
        3 <= len(bucket) <= 63 and _BUCKET_CHARACTERS.issuperset(bucket) and {bucket[0], bucket[-1]} <= _BUCKET_ENDS
    ):
        raise ConfigurationError("CONTENT_BUCKET must be an S3 bucket name (3-63 lower-case letters, digits, . and -)")
    prefix = (environ.get("CONTENT_PREFIX") or "").strip()
    problem = prefix_problem(prefix)
    if problem:
        raise ConfigurationError(f"CONTENT_PREFIX {problem}")
    # The bucket's region: the function's own (AWS_REGION, set by Lambda) unless the bucket lives elsewhere.
    region = optional(environ, "CONTENT_BUCKET_REGION") or optional(environ, "AWS_REGION")
    region = region or optional(environ, "AWS_DEFAULT_REGION")
    if region is None:
        raise ConfigurationError("CONTENT_BUCKET_REGION is not set, nor AWS_REGION: the bucket's region is unknown")
    lifetime = number(
        environ,
        "CONTENT_URL_LIFETIME_SECONDS",
        default=DEFAULT_URL_LIFETIME_SECONDS,
        low=MIN_URL_LIFETIME_SECONDS,
        high=MAX_URL_LIFETIME_SECONDS,
    )
    if lifetime != int(lifetime):
        raise ConfigurationError("CONTENT_URL_LIFETIME_SECONDS must be a whole number of seconds")
    return ContentSettings(bucket=bucket, prefix=prefix, region=region, url_lifetime_seconds=int(lifetime))
