"""`chalice local` as the local stack runs it: API Gateway's whole proxy event, and a listen backlog for bursts.

chalice's local server keeps one value per header (the first) and builds no ``multiValueHeaders``,
so two ``Authorization`` headers reached the app as one credential, where API Gateway hands it both
and the service answers 400. Here the same ``LocalDevServer`` runs through its own seams
(``CLIFactory.create_local_server``, ``handler_cls``, ``server_cls``): every header line goes into
the event as API Gateway puts it (``multiValueHeaders`` in order, ``headers`` with the last value,
``queryStringParameters`` beside ``multiValueQueryStringParameters``), and the socket listens with a
backlog that a burst of 40 connections does not overflow. The service reads the event as it reads
API Gateway's and never knows it is local.

``python -m devstack.gateway --project-dir DIR --stage local --port 8000`` is ``chalice --project-dir DIR
local --stage local --port 8000 --no-autoreload`` with those differences, and ``--set NAME=VALUE`` overrides one
of the stage's environment variables (``make demo`` points AUTH0_DOMAIN at a sandbox of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from chalice import cli
from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    EventType,
    LambdaEventConverter,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    RouteMatcher,
    ThreadedHTTPServer,
)

# socketserver's default of 5 reset most of 40 simultaneous connections; each gets its own thread once accepted.
LISTEN_BACKLOG = 128


class RequestHeaders(dict[str, str]):
    """A request's headers for chalice's gateway: one value per lower-cased name (the last, as API Gateway's
    ``headers``), and ``lines``, every header line in the order it came."""

    def __init__(self, message: Message) -> None:
        self.lines = [(name, str(value)) for name, value in message.items()]
        super().__init__((name.lower(), value) for name, value in self.lines)


class ProxyEventConverter(LambdaEventConverter):
    """chalice's event, completed with the fields API Gateway's REST proxy integration fills from the raw request."""

    def create_lambda_event(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> EventType:
        event = super().create_lambda_event(method, path, headers, body)
        lines = headers.lines if isinstance(headers, RequestHeaders) else list(headers.items())
        repeated: dict[str, list[str]] = {}
        for name, value in lines:
            repeated.setdefault(name.lower(), []).append(value)
        event["multiValueHeaders"] = repeated
        query: dict[str, list[str]] | None = event["multiValueQueryStringParameters"]
        event["queryStringParameters"] = None if query is None else {name: values[-1] for name, values in query.items()}
        return event


class ProxyEventHandler(ChaliceRequestHandler):
    """chalice's request handler with the gateway above; one per connection, as chalice makes them."""

    def __init__(
        self, request: Any, client_address: tuple[str, int], server: HTTPServer, app_object: Chalice, config: Config
    ) -> None:
        # ChaliceRequestHandler.__init__ builds its gateway and then serves the connection at once, inside
        # BaseHTTPRequestHandler.__init__: the converter has to be in place before that call.
        self.local_gateway = LocalGateway(app_object, config)
        self.local_gateway.event_converter = ProxyEventConverter(
            RouteMatcher(list(app_object.routes)), app_object.api.binary_types
        )
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        _, body = super()._parse_payload()
        return RequestHeaders(self.headers), body


class BurstServer(ThreadedHTTPServer):
    request_queue_size = LISTEN_BACKLOG


class GatewayFactory(CLIFactory):
    """chalice's CLI factory, whose local server is the one above."""

    def create_local_server(self, app_obj: Chalice, config: Config, host: str, port: int) -> LocalDevServer:
        # What chalice.local.create_local_server does first: current_request becomes per thread.
        CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
        app_obj.__class__ = CustomLocalChalice
        return LocalDevServer(app_obj, config, host, port, handler_cls=ProxyEventHandler, server_cls=BurstServer)


def local_server(project_dir: Path, *, stage: str, host: str, port: int) -> LocalDevServer:
    """Load the project's app for ``stage`` (its environment variables set, its routes checked) and bind."""
    factory = GatewayFactory(str(project_dir), environ=os.environ)
    server: LocalDevServer = cli.create_local_server(factory, host, port, stage)
    return server


def _setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.gateway", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the chalice project (default: here)")
    parser.add_argument("--stage", default="local", help="the chalice stage (default local)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        type=_setting,
        metavar="NAME=VALUE",
        help="an environment variable that wins over the stage's (e.g. AUTH0_DOMAIN of a sandbox on another port)",
    )
    args = parser.parse_args(argv)
    project_dir = args.project_dir.resolve()
    # As the chalice CLI: relative paths in the stage's settings (COURSES_FILE) are the project's.
    os.chdir(project_dir)
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")  # the app's log lines
    server = local_server(project_dir, stage=args.stage, host=args.host, port=args.port)
    # chalice put the stage's variables into the environment while loading the app; the app reads them on first
    # use, never at import, so these still win.
    os.environ.update(dict(args.set))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop without a traceback
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
