"""A built SPA into the stack's bucket: each file with its content type and caching, the previous publish's leftovers
removed (only files a publish put there), and CloudFront told to fetch index.html again.

Vite names everything under ``assets/`` after a hash of its content, so those files never change under their name and
are cached for a year; ``index.html`` names the current ones and is revalidated on every visit (``no-cache``), so a
publish reaches every student on their next visit. Assets go up first and ``index.html`` last: no page ever names a
file that is not there yet.
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ops.errors import AwsRefused

# The keys the last publish uploaded, so that the next removes only what it put there (never a file someone else
# keeps in the bucket).
MANIFEST_KEY = ".ops-spa-publish.json"
HASHED = "assets/"
LONG_LIVED = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ENTRY = "index.html"
# The default root object is cached under "/" as well as under its own name.
INVALIDATED = ("/", f"/{ENTRY}")
DELETE_BATCH = 1000  # S3 DeleteObjects takes at most 1,000 keys
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


class BucketClient(Protocol):
    """The S3 calls a publish makes (boto3's S3 client)."""

    def get_object(self, **kwargs: Any) -> Any: ...
    def put_object(self, **kwargs: Any) -> Any: ...
    def delete_objects(self, **kwargs: Any) -> Any: ...


class InvalidationClient(Protocol):
    """The CloudFront call a publish makes (boto3's CloudFront client)."""

    def create_invalidation(self, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class BuiltFile:
    key: str
    path: Path
    content_type: str
    cache_control: str
    size: int


@dataclass(frozen=True)
class Plan:
    """What a publish uploads, in order, and which files of the previous publish it removes."""

    upload: tuple[BuiltFile, ...]
    remove: tuple[str, ...]

    def describe(self, bucket: str, *, done: bool) -> Iterator[str]:
        size = sum(file.size for file in self.upload)
        yield f"spa: {'uploaded' if done else 'would upload'} {_files(len(self.upload))} ({_size(size)}) to s3://{bucket}"
        for file in self.upload:
            yield f"  {file.key}  {file.content_type}  {file.cache_control}"
        if self.remove:
            yield f"spa: {'removed' if done else 'would remove'} {_files(len(self.remove))} of the previous publish:"
            yield from (f"  {key}" for key in self.remove)


def built_files(folder: Path) -> tuple[BuiltFile, ...]:
    """Every file of a build, hashed assets first and index.html last."""
    files = []
    for path in folder.rglob("*"):
        if path.is_file():
            key = path.relative_to(folder).as_posix()
            files.append(
                BuiltFile(
                    key=key,
                    path=path,
                    content_type=content_type(key),
                    cache_control=LONG_LIVED if key.startswith(HASHED) else REVALIDATE,
                    size=path.stat().st_size,
                )
            )
    return tuple(sorted(files, key=lambda file: (not file.key.startswith(HASHED), file.key == ENTRY, file.key)))


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def plan(files: Sequence[BuiltFile], previously: Sequence[str]) -> Plan:
    uploaded = {file.key for file in files}
    return Plan(upload=tuple(files), remove=tuple(sorted(set(previously) - uploaded)))


def published_before(s3: BucketClient, bucket: str) -> list[str]:
    """The keys the previous publish uploaded (none before the first)."""
    from botocore.exceptions import ClientError

    try:
        answer = s3.get_object(Bucket=bucket, Key=MANIFEST_KEY)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return []
        raise
    keys = json.loads(answer["Body"].read()).get("keys", [])
    return [key for key in keys if isinstance(key, str) and key != MANIFEST_KEY]


def publish(plan: Plan, *, s3: BucketClient, cloudfront: InvalidationClient, bucket: str, distribution_id: str) -> str:
    """Upload, record, remove the leftovers, invalidate index.html; the invalidation's id."""
    for file in plan.upload:
        with file.path.open("rb") as body:
            s3.put_object(
                Bucket=bucket, Key=file.key, Body=body, ContentType=file.content_type, CacheControl=file.cache_control
            )
    manifest = json.dumps({"keys": [file.key for file in plan.upload]}, indent=1)
    s3.put_object(
        Bucket=bucket, Key=MANIFEST_KEY, Body=manifest.encode(), ContentType="application/json", CacheControl=REVALIDATE
    )
    for start in range(0, len(plan.remove), DELETE_BATCH):
        batch = plan.remove[start : start + DELETE_BATCH]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
        refused = answer.get("Errors") or []
        if refused:
            first = refused[0]
            raise AwsRefused(f"S3 kept {len(refused)} files of the previous publish: {first['Key']}: {first['Code']}")
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(INVALIDATED), "Items": list(INVALIDATED)},
            "CallerReference": f"ops-spa-publish-{uuid.uuid4()}",
        },
    )
    return str(answer["Invalidation"]["Id"])


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / 1024 / 1024:.1f} MB"
