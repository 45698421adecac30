"""The standard library's threading HTTP server, reading requests into ``Request`` and writing ``Response``.

Every answer is Auth0-shaped JSON, even for a request the HTTP layer refuses (no chunked bodies,
1 MiB at most); no header is ever written with a line break in it; the request log goes through ``mask_line``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import socketserver
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.errors import ManagementError, phrase
from sandbox.http.log_mask import mask_line
from sandbox.http.pipeline import RequestPipeline
from sandbox.http.wire import JSON_TYPE, Request, Response

MAX_BODY_BYTES = 1_048_576
LISTEN_BACKLOG = 128
# RFC 9110 5.5: a field value holding CR, LF or NUL is invalid and dangerous. Written as is, CR/LF would end
# the header and start one of the requester's choosing (response splitting), whatever let the value through.
_UNSAFE_IN_HEADER = re.compile(r"[\r\n\x00]")
log = logging.getLogger("sandbox")


class LoopbackHttpServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process alive
    # The listen backlog: socketserver's default of 5 resets connections in a burst (40 simultaneous
    # sign-ins, a browser suite's parallel requests) before the accept loop gets to them. Each accepted
    # connection gets its own thread, so there is no pool to size.
    request_queue_size = LISTEN_BACKLOG
    pipeline: RequestPipeline

    def __init__(self, address: tuple[str, int], *, quiet: bool) -> None:
        self.quiet = quiet
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup a loopback server never needs.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "auth0-sandbox"
    sys_version = ""
    timeout = 30
    server: LoopbackHttpServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:  # a browser's CORS preflight
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
            if body is None:
                return
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                client_ip=str(self.client_address[0]),
            )
            self._send(self.server.pipeline.handle(request))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("sandbox: could not answer %s %s", self.command, mask_line(self.path))
            self.send_error(500)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.send_error(411, "A Content-Length is required")
            return None
        raw = self.headers.get("Content-Length") or "0"
        if not raw.isascii() or not raw.isdigit():
            self.send_error(400, "Invalid Content-Length")
            return None
        length = int(raw)
        if length > MAX_BODY_BYTES:
            self.send_error(413, f"Payload content length greater than maximum allowed: {MAX_BODY_BYTES}")
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        fields = {**response.headers, "Content-Type": response.content_type or ""}
        unsafe = sorted(name for name, value in fields.items() if _UNSAFE_IN_HEADER.search(name + value))
        if unsafe:
            # Fail closed: nothing of that answer goes out, and the log says which check upstream let it through.
            log.error(
                "sandbox: refused to answer %s %s: header %s held CR, LF or NUL",
                self.command,
                mask_line(self.path),
                ", ".join(repr(name) for name in unsafe),
            )
            self.send_error(400, "The answer would have put CR, LF or NUL into a header; none of it was sent")
            return
        self.send_response(response.status)
        if response.content_type is not None:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Even a request the HTTP layer refuses gets an Auth0-shaped JSON answer, never HTML."""
        body = json.dumps(ManagementError(code, message or phrase(code)).body).encode("utf-8")
        self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"sandbox {self.address_string()} {mask_line(format % args)}\n")
