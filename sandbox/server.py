"""The HTTP server: ``SandboxServer`` serves the tenant on a loopback port from a background thread."""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.authentication.token import AuthenticationApi
from sandbox.defaults import (
    CHECK_SCOPES,
    CLIENT_CREDENTIALS_GRANT,
    DEFAULT_API_AUDIENCE,
    DEFAULT_CATALOGUE,
    DEFAULT_CHECK_CLIENT_ID,
    DEFAULT_CHECK_CLIENT_SECRET,
    DEFAULT_CONNECTION,
    DEFAULT_HOST,
    DEFAULT_LOGIN_CLIENT_ID,
    DEFAULT_LOGIN_CLIENT_SECRET,
    DEFAULT_M2M_CLIENT_ID,
    DEFAULT_M2M_CLIENT_SECRET,
    DEFAULT_SPA_ORIGIN,
    M2M_SCOPES,
    MAX_FAILED_LOGINS,
    PASSWORD_GRANT,
    SPA_CLIENT_ID,
    TOKEN_LIFETIME_SECONDS,
)
from sandbox.devtools import DevToolsApi
from sandbox.errors import ManagementError, phrase
from sandbox.http.browser_safety import BrowserSafety, served_hosts
from sandbox.http.cors import CorsPolicy
from sandbox.http.faults import FaultPlan
from sandbox.http.log_mask import mask_line
from sandbox.http.pipeline import RequestPipeline
from sandbox.http.rate_limit import RateLimiter
from sandbox.http.routing import Router
from sandbox.http.stats import Stats
from sandbox.http.wire import JSON_TYPE, Request, Response
from sandbox.management.configuration import ConfigurationApi
from sandbox.management.users import UsersApi
from sandbox.oidc.authorize import BrowserApi
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.clients import Client, spa_client
from sandbox.tenant.roles import load_roles
from sandbox.tenant.site import Site, base_url_for, is_loopback_host
from sandbox.tenant.state_file import StateFile
from sandbox.tenant.state_lock import StateLock
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import DEFAULT_USER_SCOPE, TokenIssuer, user_access_token

MAX_BODY_BYTES = 1_048_576
log = logging.getLogger("sandbox")


class SandboxServer:
    """An Auth0 tenant on ``http://127.0.0.1:PORT``; use as a context manager or ``start``/``stop``.

    Parameters
    ----------
    host
        A loopback address (``127.0.0.1``, ``::1``, ``localhost``); anything else is refused.
    port
        0 picks a free port (read ``port``/``base_url`` after ``start``).
    state_path
        The JSON state file; None keeps the tenant in memory only. A file is locked from construction
        to ``stop`` (``StateFileInUse`` if another sandbox holds it).
    catalogue
        A course catalogue (``role_id``, ``permission``, ``slug``) to seed roles from; None seeds none.
    rate_limit, burst
        The Management API's token bucket (requests per second, bucket size); None: no limit.
    audience
        The API identifier user access tokens are issued for.
    client_id, client_secret
        The M2M application (``client_credentials`` for the Management API).
    login_client_id, login_client_secret
        The application allowed the password-realm grant.
    spa_origins
        The single-page application's origins (``http://127.0.0.1:3000``): its allowed callback,
        logout and web-origin (CORS) URLs.
    access_token_lifetime
        Seconds a person's access token for the API lives (code, refresh and password-realm grants,
        ``/sandbox/token``, ``user_token``; the API's ``token_lifetime`` in the Management API);
        None: ``token_lifetime_seconds``, which M2M tokens keep.
    check_client_id, check_client_secret
        The operator application ``python -m ops check`` runs as (read:client_grants, read:resource_servers,
        read:roles), so the M2M application's grant stays exactly what the service needs.
    quiet
        False logs one line per request to stderr.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        state_path: Path | str | None = None,
        catalogue: Path | str | None = DEFAULT_CATALOGUE,
        rate_limit: float | None = None,
        burst: int | None = None,
        audience: str = DEFAULT_API_AUDIENCE,
        client_id: str = DEFAULT_M2M_CLIENT_ID,
        client_secret: str = DEFAULT_M2M_CLIENT_SECRET,
        login_client_id: str = DEFAULT_LOGIN_CLIENT_ID,
        login_client_secret: str = DEFAULT_LOGIN_CLIENT_SECRET,
        check_client_id: str = DEFAULT_CHECK_CLIENT_ID,
        check_client_secret: str = DEFAULT_CHECK_CLIENT_SECRET,
        connection: str = DEFAULT_CONNECTION,
        max_failed_logins: int = MAX_FAILED_LOGINS,
        token_lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
        spa_origins: Sequence[str] = (DEFAULT_SPA_ORIGIN,),
        access_token_lifetime: int | None = None,
        quiet: bool = True,
    ) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"the sandbox serves loopback hosts only, not {host!r}")
        if len({client_id, login_client_id, check_client_id, SPA_CLIENT_ID}) < 4:
            raise ValueError("the M2M, login, check and SPA clients need different ids")
        self.host = host
        self._requested_port = port
        self.api_audience = audience
        self.client_id = client_id
        self.login_client_id = login_client_id
        self.token_lifetime_seconds = token_lifetime_seconds
        if access_token_lifetime is not None and access_token_lifetime <= 0:
            raise ValueError("the access token lifetime is a positive number of seconds")
        self.access_token_lifetime = access_token_lifetime or token_lifetime_seconds
        self.spa = spa_client(spa_origins)
        self.quiet = quiet
        roles = load_roles(catalogue) if catalogue is not None else []
        self._state_path = None if state_path is None else Path(state_path)
        # Locked before the tenant reads (and re-saves) the file: a second sandbox must not touch it.
        self._state_lock = None if self._state_path is None else StateLock.acquire(self._state_path)
        try:
            self.tenant = Tenant(
                store=StateFile(state_path),
                connection=connection,
                roles=roles,
                max_failed_logins=max_failed_logins,
            )
        except BaseException:
            self._release_state()
            raise
        self.limiter = RateLimiter()
        self.limiter.configure(rate_limit, burst)
        self.faults = FaultPlan()
        self.stats = Stats()
        self.clients = {
            client_id: Client(client_id, client_secret, (CLIENT_CREDENTIALS_GRANT,)),
            login_client_id: Client(login_client_id, login_client_secret, (PASSWORD_GRANT,)),
            self.spa.client_id: self.spa,
            check_client_id: Client(check_client_id, check_client_secret, (CLIENT_CREDENTIALS_GRANT,)),
        }
        self.check_client_id = check_client_id
        self.grants = ClientGrants({client_id: M2M_SCOPES, check_client_id: CHECK_SCOPES})
        self._stopping = threading.Event()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._site: Site | None = None
        self._issuer: TokenIssuer | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind, then serve from a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("the sandbox is already running")
        if self._state_path is not None and self._state_lock is None:
            self._state_lock = StateLock.acquire(self._state_path)  # started again after a stop
        self._stopping.clear()
        httpd = _HttpServer((self.host.strip("[]"), self._requested_port), quiet=self.quiet)
        site = Site(base_url=base_url_for(self.host, httpd.server_address[1]), api_audience=self.api_audience)
        issuer = TokenIssuer(self.tenant.signing_key, site.issuer)
        httpd.app = self._build_app(site, issuer)
        self.tenant.record_served_at(
            base_url=site.base_url,
            api_audience=self.api_audience,
            connection=self.tenant.connection,
            login_client_id=self.login_client_id,
        )
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="auth0-sandbox", daemon=True
        )
        self._httpd, self._thread, self._site, self._issuer = httpd, thread, site, issuer
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        self._stopping.set()
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._release_state()

    def _release_state(self) -> None:
        lock, self._state_lock = self._state_lock, None
        if lock is not None:
            lock.release()

    def wait(self) -> None:
        """Block until ``request_stop`` or ``stop`` is called (from a signal handler, another thread)."""
        while self._httpd is not None and not self._stopping.wait(0.5):
            pass

    def request_stop(self) -> None:
        """Ask ``wait`` to return; safe in a signal handler."""
        self._stopping.set()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _build_app(self, site: Site, issuer: TokenIssuer) -> RequestPipeline:
        management = UsersApi(self.tenant, site)
        authentication = AuthenticationApi(
            tenant=self.tenant,
            site=site,
            issuer=issuer,
            clients=self.clients,
            token_lifetime=self.token_lifetime_seconds,
            user_token_lifetime=self.access_token_lifetime,
            grants=self.grants,
        )
        browser = BrowserApi(
            tenant=self.tenant, site=site, issuer=issuer, clients=self.clients, sign_in_url=self.spa.web_origins[0]
        )
        configuration = ConfigurationApi(
            tenant=self.tenant,
            site=site,
            grants=self.grants,
            token_lifetime=self.token_lifetime_seconds,
            api_token_lifetime=self.access_token_lifetime,
        )
        dev = DevToolsApi(
            tenant=self.tenant,
            site=site,
            issuer=issuer,
            limiter=self.limiter,
            faults=self.faults,
            stats=self.stats,
            login_client_id=self.login_client_id,
            token_lifetime=self.access_token_lifetime,  # /sandbox/token issues people's tokens
        )
        return RequestPipeline(
            router=Router(
                [
                    *management.routes(),
                    *configuration.routes(),
                    *authentication.routes(),
                    *browser.routes(),
                    *dev.routes(),
                ]
            ),
            issuer=issuer,
            management_audience=site.management_audience,
            limiter=self.limiter,
            faults=self.faults,
            stats=self.stats,
            stopping=self._stopping,
            cors=CorsPolicy(origin for client in self.clients.values() for origin in client.web_origins),
            browser_safety=BrowserSafety(served_hosts(site.base_url)),
        )

    # --- where it answers -------------------------------------------------------------------------

    @property
    def site(self) -> Site:
        if self._site is None:
            raise RuntimeError("the sandbox is not started: call start() first")
        return self._site

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the service's ``AUTH0_DOMAIN``."""
        return self.site.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def domain(self) -> str:
        """``127.0.0.1:PORT``: what auth0-python's Authentication API calls ``domain``."""
        return self.base_url.split("://", 1)[1]

    @property
    def issuer(self) -> str:
        return self.site.issuer

    @property
    def management_audience(self) -> str:
        return self.site.management_audience

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    # --- tokens without HTTP (tests) --------------------------------------------------------------

    def _token_issuer(self) -> TokenIssuer:
        if self._issuer is None:
            raise RuntimeError("the sandbox is not started: call start() first")
        return self._issuer

    def management_token(
        self, *, scope: str | None = None, lifetime: int | None = None, issued_at: int | None = None
    ) -> str:
        """A Management API token as ``client_credentials`` issues it (``issued_at`` to age it)."""
        return self._token_issuer().access_token(
            subject=f"{self.client_id}@clients",
            audience=self.management_audience,
            client_id=self.client_id,
            scope=" ".join(M2M_SCOPES) if scope is None else scope,
            lifetime=self.token_lifetime_seconds if lifetime is None else lifetime,
            grant_type="client-credentials",
            issued_at=issued_at,
        )

    def user_token(self, email: str, *, scope: str = DEFAULT_USER_SCOPE) -> str:
        """An access token for the user with this e-mail, with their roles' permissions."""
        user = self.tenant.database_user(email)
        if user is None:
            raise LookupError(f"no sandbox user with e-mail {email!r}")
        token, _ = user_access_token(
            self._token_issuer(),
            self.tenant,
            self.site,
            user,
            client_id=self.login_client_id,
            scope=scope,
            lifetime=self.access_token_lifetime,
        )
        return token


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process alive
    app: RequestPipeline

    def __init__(self, address: tuple[str, int], *, quiet: bool) -> None:
        self.quiet = quiet
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup a loopback server never needs.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "auth0-sandbox"
    sys_version = ""
    timeout = 30
    server: _HttpServer

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
            self._send(self.server.app.handle(request))
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
