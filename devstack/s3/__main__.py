"""``python -m devstack.s3 --port N --content DIR``: serve the local S3 endpoint until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from devstack.s3.config import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_BUCKET,
    DEFAULT_CONTENT,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_SECRET_ACCESS_KEY,
    SECRET_ENVIRONMENT_VARIABLE,
    AccessKey,
)
from devstack.s3.endpoint import LocalS3


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The secret comes from the environment, never the command line (ps shows every process's arguments).
    secret = os.environ.get(SECRET_ENVIRONMENT_VARIABLE) or DEFAULT_SECRET_ACCESS_KEY
    endpoint = LocalS3(
        port=args.port,
        content=args.content,
        bucket=args.bucket,
        region=args.region,
        keys=(AccessKey(args.access_key_id, secret),),
        cors_origins=args.cors_origins or (),
        quiet=not args.verbose,
    )
    try:
        endpoint.start()
    except OSError as exc:
        print(f"local-s3: cannot serve on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2

    def stop(signum: int, frame: FrameType | None) -> None:
        endpoint.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    source = f" ({len(endpoint.seeded)} objects from {args.content})" if args.content is not None else ""
    print(
        f"local-s3: serving {endpoint.endpoint_url}, bucket {endpoint.bucket}{source}, region {endpoint.region}, "
        f"access key id {args.access_key_id}",
        flush=True,
    )
    try:
        endpoint.wait()
    finally:
        endpoint.stop()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.s3",
        description="An S3 endpoint on 127.0.0.1 that checks SigV4 signatures and expiry (moto behind a check).",
        epilog=f"The secret access key is read from ${SECRET_ENVIRONMENT_VARIABLE} (default: a public dev value).",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s; 0 picks a free one")
    parser.add_argument(
        "--content", type=Path, default=DEFAULT_CONTENT, help="folder uploaded to the bucket (default: content/)"
    )
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="default %(default)s")
    parser.add_argument("--region", default=DEFAULT_REGION, help="default %(default)s")
    parser.add_argument("--access-key-id", default=DEFAULT_ACCESS_KEY_ID, help="default %(default)s")
    parser.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="URL",
        help="an origin allowed to read objects from a browser's fetch (repeatable; default none)",
    )
    parser.add_argument("--verbose", action="store_true", help="log one line per request (paths only)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
