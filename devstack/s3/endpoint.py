"""``LocalS3``: an S3 endpoint on 127.0.0.1 that checks signatures and expiry, with a bucket seeded from a folder."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from devstack.s3.config import DEFAULT_BUCKET, DEFAULT_KEY, DEFAULT_REGION, HOST, AccessKey
from devstack.s3.front import FrontServer
from devstack.s3.seed import ensure_bucket, seed_bucket
from devstack.s3.sigv4 import SigV4Verifier

_SERVED_LOCK = threading.Lock()
_SERVED_BUCKETS: set[str] = set()


def utc_now() -> datetime:
    return datetime.now(UTC)


class LocalS3:
    """moto's S3 server behind a front that authenticates every request as S3 does.

    The front listens on ``endpoint_url``; the emulator on another loopback port that only the front uses.
    Use as a context manager, or ``start``/``stop``.

    Parameters
    ----------
    port
        The front's port; 0 picks a free one (read ``port`` after ``start``).
    content
        A folder whose files are uploaded to ``bucket`` on start (``<slug>/<file>`` keys); None seeds nothing.
    bucket
        The one bucket this endpoint serves (created on start); requests for others are refused.
    region
        The bucket's region; signatures scoped to another region are refused.
    keys
        The key pairs accepted. The first one seeds the bucket and is ``client()``'s default.
    cors_origins
        Origins a browser may read objects from (a bucket CORS rule allowing GET and HEAD); none by default,
        as for a bucket without a CORS configuration.
    clock
        The current time (UTC) the front judges expiry by.
    quiet
        False logs one line per request (path only: never the query, which carries the signature).

    Notes
    -----
    moto keeps objects in process-wide backends: a ``moto.mock_aws`` started in the same process resets them and
    intercepts this process's boto3 calls. Next to such tests, run the endpoint in its own process
    (``python -m devstack.s3``).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        content: Path | None = None,
        bucket: str = DEFAULT_BUCKET,
        region: str = DEFAULT_REGION,
        keys: Sequence[AccessKey] = (DEFAULT_KEY,),
        cors_origins: Sequence[str] = (),
        clock: Callable[[], datetime] = utc_now,
        quiet: bool = True,
    ) -> None:
        if not keys:
            raise ValueError("the endpoint needs at least one key pair")
        if len({key.access_key_id for key in keys}) != len(keys):
            raise ValueError("two key pairs share an access key id")
        self.bucket = bucket
        self.region = region
        self.keys = tuple(keys)
        self.content = content
        self.seeded: list[str] = []
        self._requested_port = port
        self._cors_origins = tuple(cors_origins)
        self._verifier = SigV4Verifier(keys=self.keys, region=region, clock=clock)
        self._quiet = quiet
        self._emulator: Any = None
        self._front: FrontServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._holds_bucket = False

    # --- lifecycle --------------------------------------------------------------------------------------------------

    def start(self) -> LocalS3:
        """Start the emulator and the front, create the bucket and upload ``content``; returns self."""
        if self._front is not None:
            raise RuntimeError("the local S3 endpoint is already running")
        with _SERVED_LOCK:
            if self.bucket in _SERVED_BUCKETS:
                # moto's backends are shared by the whole process: a second endpoint would see, and on stop
                # delete, the first one's objects.
                raise RuntimeError(f"bucket {self.bucket!r} is already served by a LocalS3 in this process")
            _SERVED_BUCKETS.add(self.bucket)
        self._holds_bucket = True
        try:
            self._front = FrontServer(
                (HOST, self._requested_port),
                verifier=self._verifier,
                bucket=self.bucket,
                cors_origins=self._cors_origins,
                quiet=self._quiet,
            )
            self._stopping.clear()
            self._start_emulator()
            self._thread = threading.Thread(
                target=self._front.serve_forever, kwargs={"poll_interval": 0.1}, name="local-s3", daemon=True
            )
            self._thread.start()
            client = self.client()
            ensure_bucket(client, self.bucket, self.region)
            if self.content is not None:
                self.seeded = seed_bucket(client, self.bucket, self.content)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_emulator(self) -> None:
        from moto.server import ThreadedMotoServer  # Flask and moto's backends load only when an endpoint starts

        # werkzeug logs each request line to stderr, query and signature included, unless its logger has a level;
        # the front logs paths only.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        emulator = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        emulator.start()
        self._emulator = emulator
        assert self._front is not None
        self._front.emulator = emulator.get_host_and_port()

    def stop(self) -> None:
        """Stop the front, forget the bucket, stop the emulator (idempotent)."""
        self._stopping.set()
        front, thread, emulator = self._front, self._thread, self._emulator
        self._front = self._thread = self._emulator = None
        if front is not None:
            front.shutdown()
            front.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if emulator is not None:
            self._forget_bucket(emulator)
            emulator.stop()
        if self._holds_bucket:
            with _SERVED_LOCK:
                _SERVED_BUCKETS.discard(self.bucket)
            self._holds_bucket = False

    def _forget_bucket(self, emulator: Any) -> None:
        # moto's backends outlive its server: empty them so the next endpoint in this process starts clean.
        host, port = emulator.get_host_and_port()
        direct = s3_client(f"http://{host}:{port}", region=self.region, key=self.keys[0])
        try:
            for page in direct.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    direct.delete_object(Bucket=self.bucket, Key=item["Key"])
            direct.delete_bucket(Bucket=self.bucket)
        except Exception:  # a bucket that was never made, or an emulator already gone
            logging.getLogger("devstack.s3").debug("local S3: nothing to forget", exc_info=True)

    def wait(self) -> None:
        """Block until ``request_stop`` or ``stop`` (from a signal handler, another thread)."""
        while self._front is not None and not self._stopping.wait(0.5):
            pass

    def request_stop(self) -> None:
        """Ask ``wait`` to return; safe in a signal handler."""
        self._stopping.set()

    def __enter__(self) -> LocalS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- where it answers -------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._front is None:
            raise RuntimeError("the local S3 endpoint is not started: call start() first")
        return int(self._front.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``: what boto3 takes as ``endpoint_url``."""
        return f"http://{HOST}:{self.port}"

    def client(self, key: AccessKey | None = None) -> Any:
        """A boto3 S3 client for this endpoint, as the service is configured for it (``s3v4``, path-style)."""
        return s3_client(self.endpoint_url, region=self.region, key=key or self.keys[0])


def s3_client(endpoint_url: str, *, region: str, key: AccessKey) -> Any:
    """A boto3 S3 client for a loopback endpoint, signing with ``key`` (its own session: no shared defaults)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        aws_session_token=key.session_token,
        config=client_config(),
    )


def client_config() -> Config:
    """Signature V4 and path-style addressing: a loopback endpoint has no per-bucket host names."""
    return Config(signature_version="s3v4", s3={"addressing_style": "path"})
