"""The HTTP front: authenticates each request as S3 does, then streams it to the emulator and its answer back."""

from __future__ import annotations

import http.client
import logging
import socketserver
import sys
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from devstack.s3 import errors
from devstack.s3.config import MAX_UPLOAD_BYTES
from devstack.s3.errors import XML_TYPE, S3Error, request_id
from devstack.s3.sigv4 import SigV4Verifier, WireRequest

log = logging.getLogger("devstack.s3")

CHUNK_BYTES = 64 * 1024
UPSTREAM_TIMEOUT_SECONDS = 30
# RFC 9110 section 7.6.1, and what each side sets for itself (its own Host, Date, Server, framing).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding"}
    | {"upgrade", "proxy-connection", "expect", "host", "content-length", "date", "server"}
)
# moto's server answers every origin (flask-cors); a bucket without a CORS rule answers none, so these are dropped
# and the front applies the rule it was given instead.
_EMULATOR_CORS = ("access-control-", "vary")
_EMULATOR_ID = "x-amzn-requestid"
_EXPOSED_HEADERS = "Accept-Ranges, Content-Length, Content-Range, Content-Type, ETag, Last-Modified"
_CORS_METHODS = ("GET", "HEAD")


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process alive
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        verifier: SigV4Verifier,
        bucket: str,
        cors_origins: Iterable[str],
        quiet: bool,
    ) -> None:
        self.verifier = verifier
        self.bucket = bucket
        # Set once the emulator listens: the front binds first, so a taken port fails before anything starts.
        self.emulator: tuple[str, int] | None = None
        self.cors_origins = frozenset(cors_origins)
        self.quiet = quiet
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup a loopback server never needs.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a <video> seeks with many Range requests on one connection
    server_version = "AmazonS3"
    timeout = 30
    server: FrontServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        rid = request_id()
        self._answering = False
        try:
            path, query = _split_target(self.path)
            if self.command == "OPTIONS":
                self._preflight(rid)  # a browser's CORS preflight carries no credentials, in S3 as here
                return
            request = WireRequest(
                method=self.command,
                path=path,
                query=query,
                headers=tuple(self.headers.items()),
                body=self._read_body(),
            )
            self.server.verifier.authenticate(request)
            if _bucket_of(path) not in ("", self.server.bucket):
                raise errors.access_denied()  # the dev key's policy covers this endpoint's one bucket
            self._forward(request, rid)
        except S3Error as refusal:
            self._refuse(refusal, rid)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("local S3: could not answer %s %s", self.command, _without_query(self.path))
            if self._answering:  # the status line is out: a second answer would corrupt the stream
                self.close_connection = True
                return
            self._refuse(S3Error(500, "InternalError", "We encountered an internal error. Please try again."), rid)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # the unread body would be taken for the next request
            raise errors.missing_content_length()
        raw = self.headers.get("Content-Length") or "0"
        if not raw.isascii() or not raw.isdigit():
            self.close_connection = True
            raise S3Error(400, "BadRequest", "An error occurred when parsing the HTTP request.")
        length = int(raw)
        if length > MAX_UPLOAD_BYTES:
            self.close_connection = True
            raise errors.entity_too_large(MAX_UPLOAD_BYTES)
        return self.rfile.read(length) if length else b""

    # --- answers ----------------------------------------------------------------------------------------------------

    def send_response(self, code: int, message: str | None = None) -> None:
        self._answering = True
        super().send_response(code, message)

    def _forward(self, request: WireRequest, rid: str) -> None:
        if self.server.emulator is None:
            raise errors.emulator_unavailable()
        host, port = self.server.emulator
        connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_SECONDS)
        try:
            target = request.path + (f"?{request.query}" if request.query else "")
            connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", f"{host}:{port}")
            for name, value in request.headers:
                if name.lower() not in _HOP_BY_HOP:
                    connection.putheader(name, value)
            if request.body or request.method in ("PUT", "POST"):
                connection.putheader("Content-Length", str(len(request.body)))
            try:
                connection.endheaders(request.body or None)
                answer = connection.getresponse()
            except OSError as exc:
                log.warning("local S3: the emulator did not answer: %s", exc)
                raise errors.emulator_unavailable() from exc
            self._relay(answer, rid)
        finally:
            connection.close()

    def _relay(self, answer: http.client.HTTPResponse, rid: str) -> None:
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            lowered = name.lower()
            if lowered not in _HOP_BY_HOP and not lowered.startswith(_EMULATOR_CORS) and lowered != _EMULATOR_ID:
                self.send_header(name, value)
        # moto names its id as other AWS services do; S3 says x-amz-request-id, the id in its error documents.
        self._identify(answer.getheader(_EMULATOR_ID) or rid)
        length = answer.getheader("Content-Length")
        if length is not None:
            self.send_header("Content-Length", length)
        elif self.command != "HEAD" and answer.status not in (204, 304):
            self.close_connection = True  # no length: the body ends when the connection does
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        while chunk := answer.read(CHUNK_BYTES):
            self.wfile.write(chunk)

    def _refuse(self, refusal: S3Error, rid: str) -> None:
        body = b"" if self.command == "HEAD" else refusal.document(rid)
        self.send_response(refusal.status)
        self.send_header("Content-Type", XML_TYPE)
        self._identify(rid)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the HTTP layer refuses (a bad request line, an unknown method) also gets S3's XML, never HTML."""
        status = HTTPStatus(code)
        self.close_connection = True
        self._refuse(S3Error(code, status.phrase.replace(" ", ""), message or status.phrase), request_id())

    def _identify(self, rid: str) -> None:
        self.send_header("x-amz-request-id", rid)
        self._cors_headers()

    # --- CORS -------------------------------------------------------------------------------------------------------

    def _allowed_origin(self) -> str | None:
        origin = self.headers.get("Origin")
        return origin if origin is not None and origin in self.server.cors_origins else None

    def _cors_headers(self) -> None:
        if not self.server.cors_origins:
            return
        origin = self._allowed_origin()
        if origin is not None:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Methods", ", ".join(_CORS_METHODS))
            self.send_header("Access-Control-Expose-Headers", _EXPOSED_HEADERS)
        self.send_header("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")

    def _preflight(self, rid: str) -> None:
        self._read_body()
        if self.headers.get("Origin") is None or self.headers.get("Access-Control-Request-Method") is None:
            raise S3Error(400, "BadRequest", "Insufficient information. Origin request header needed.")
        if self._allowed_origin() is None or self.headers["Access-Control-Request-Method"] not in _CORS_METHODS:
            raise errors.cors_refused()
        self.send_response(200)
        self._identify(rid)
        requested = self.headers.get("Access-Control-Request-Headers")
        if requested:
            self.send_header("Access-Control-Allow-Headers", requested)  # a rule with AllowedHeaders ["*"]
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # --- logging ----------------------------------------------------------------------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line carries the signature, the credential and any session token: log the path only.
        if not self.server.quiet:
            sys.stderr.write(f"local-s3 {self.command} {_without_query(self.path)} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"local-s3 {_without_query(format % args)}\n")


def _split_target(target: str) -> tuple[str, str]:
    """The request target's raw path and query (an absolute-form target keeps only its path and query)."""
    parts = urlsplit(target)
    return parts.path or "/", parts.query


def _bucket_of(path: str) -> str:
    return unquote(path.lstrip("/").split("/", 1)[0])


def _without_query(target: str) -> str:
    return target.split("?", 1)[0]
