"""Fills a bucket from a folder: one object per file, its key the file's path under the folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

# Stored as `ops content push` stores a file, so that a push of the same folder finds it unchanged.
from ops.content import SHA256_METADATA, content_type, size_and_sha256


def object_keys(folder: Path) -> dict[str, Path]:
    """``{"serverless-handbook/welcome.html": Path(...), ...}``: every file but hidden ones, in key order."""
    files = {
        path.relative_to(folder).as_posix(): path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    }
    return dict(sorted(files.items()))


def ensure_bucket(client: Any, bucket: str, region: str) -> None:
    """Create ``bucket`` unless this account already has it (S3's CreateBucket, its region's way)."""
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":  # us-east-1 is the one region S3 refuses a LocationConstraint for
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**arguments)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


def seed_bucket(client: Any, bucket: str, folder: Path) -> list[str]:
    """Upload every file under ``folder`` with its content type and SHA-256; returns the keys written."""
    if not folder.is_dir():
        raise FileNotFoundError(f"no content folder at {folder}")
    keys = object_keys(folder)
    for key, path in keys.items():
        _, digest = size_and_sha256(path)
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type(path),
            Metadata={SHA256_METADATA: digest},
        )
    return list(keys)
