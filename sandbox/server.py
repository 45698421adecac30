"""``SandboxServer``: the tenant and its applications, every surface's routes, served on a loopback port."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from sandbox.actions.runner import ACTION_SECONDS, NodeRunner
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
    DEFAULT_TENANT_CLIENT_ID,
    DEFAULT_TENANT_CLIENT_SECRET,
    M2M_SCOPES,
    MAX_FAILED_LOGINS,
    PASSWORD_GRANT,
    POST_LOGIN_ACTION,
    SPA_CLIENT_ID,
    TENANT_SCOPES,
    TOKEN_LIFETIME_SECONDS,
)
from sandbox.devtools import DevToolsApi
from sandbox.http.browser_safety import BrowserSafety, served_hosts
from sandbox.http.cors import CorsPolicy
from sandbox.http.faults import FaultPlan
from sandbox.http.handler import LoopbackHttpServer
from sandbox.http.pipeline import RequestPipeline
from sandbox.http.rate_limit import RateLimiter
from sandbox.http.routing import Router
from sandbox.http.stats import Stats
from sandbox.surfaces import Surfaces
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.clients import Client, spa_client
from sandbox.tenant.roles import load_roles
from sandbox.tenant.site import Site, base_url_for, is_loopback_host
from sandbox.tenant.state_file import StateFile
from sandbox.tenant.state_lock import StateLock
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import DEFAULT_USER_SCOPE, TokenIssuer, user_access_token


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
    disable_signup
        The database connection's "Disable Sign Ups" (on by default, as the service's setup asks): with it off,
        anyone may register any address with a password of their own (``/dbconnections/signup``).
    post_login_action, action_secrets
        The post-login Action deployed and bound at start (the repository's ``actions/post-login.js``; None
        binds none) and its secrets (``POST_LOGIN_URL``, ``POST_LOGIN_SECRET``; none: it reports the
        service unavailable). ``action_timeout_seconds``: Auth0's 20 s unless told.
    bare
        A tenant holding only the bootstrap application ``ops tenant`` runs as (``tenant_client_id``,
        ``tenant_client_secret``, with ``tenant_scopes``: those it needs): no API, roles, SPA, connection or
        Action until the Management API creates them.
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
        disable_signup: bool = True,
        post_login_action: Path | None = POST_LOGIN_ACTION,
        action_secrets: Mapping[str, str] | None = None,
        action_timeout_seconds: float = ACTION_SECONDS,
        bare: bool = False,
        tenant_client_id: str = DEFAULT_TENANT_CLIENT_ID,
        tenant_client_secret: str = DEFAULT_TENANT_CLIENT_SECRET,
        tenant_scopes: Sequence[str] = TENANT_SCOPES,
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
        self.bare = bare
        roles = load_roles(catalogue) if catalogue is not None and not bare else []
        self._state_path = None if state_path is None else Path(state_path)
        # Locked before the tenant reads (and re-saves) the file: a second sandbox must not touch it.
        self._state_lock = None if self._state_path is None else StateLock.acquire(self._state_path)
        try:
            self.tenant = Tenant(
                store=StateFile(state_path),
                connection=connection,
                roles=roles,
                max_failed_logins=max_failed_logins,
                disable_signup=disable_signup,
                enabled_clients=(login_client_id, SPA_CLIENT_ID),
            )
        except BaseException:
            self._release_state()
            raise
        if bare:  # only what the Management API made (and the state file kept)
            for name in [name for name, kept in self.tenant.connections.items() if not kept.created]:
                del self.tenant.connections[name]
        if post_login_action is not None and not bare:
            self.tenant.actions.deploy(
                name="gumroad-auth0-gate post-login",
                code=post_login_action.read_text(encoding="utf-8"),
                source=post_login_action,
                secrets=action_secrets or {},
            )
        self.action_runner = NodeRunner(timeout_seconds=action_timeout_seconds)
        self.limiter = RateLimiter()
        self.limiter.configure(rate_limit, burst)
        self.faults = FaultPlan()
        self.stats = Stats()
        self.clients: dict[str, Client] = {
            client_id: Client(client_id, client_secret, (CLIENT_CREDENTIALS_GRANT,)),
            login_client_id: Client(login_client_id, login_client_secret, (PASSWORD_GRANT,)),
            self.spa.client_id: self.spa,
            check_client_id: Client(check_client_id, check_client_secret, (CLIENT_CREDENTIALS_GRANT,)),
        }
        grants = {client_id: M2M_SCOPES, check_client_id: CHECK_SCOPES}
        if bare:
            bootstrap = Client(tenant_client_id, tenant_client_secret, (CLIENT_CREDENTIALS_GRANT,))
            self.clients = {tenant_client_id: bootstrap}
            grants = {tenant_client_id: tuple(tenant_scopes)}
        self.check_client_id = check_client_id
        self.grants = ClientGrants(grants, self.tenant.configuration)
        self._stopping = threading.Event()
        self._httpd: LoopbackHttpServer | None = None
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
        httpd = LoopbackHttpServer((self.host.strip("[]"), self._requested_port), quiet=self.quiet)
        site = Site(base_url=base_url_for(self.host, httpd.server_address[1]), api_audience=self.api_audience)
        issuer = TokenIssuer(self.tenant.signing_key, site.issuer)
        httpd.pipeline = self._build_pipeline(site, issuer)
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
        self.action_runner.close()
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

    def _build_pipeline(self, site: Site, issuer: TokenIssuer) -> RequestPipeline:
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
        surfaces = Surfaces(
            tenant=self.tenant,
            clients=self.clients,
            grants=self.grants,
            token_lifetime=self.token_lifetime_seconds,
            access_token_lifetime=self.access_token_lifetime,
            action_runner=self.action_runner,
            sign_in_url=self.spa.web_origins[0],
            bare=self.bare,
        )
        routes = [*surfaces.routes(site, issuer), *dev.routes()]
        return RequestPipeline(
            router=Router(routes),
            issuer=issuer,
            management_audience=site.management_audience,
            limiter=self.limiter,
            faults=self.faults,
            stats=self.stats,
            stopping=self._stopping,
            # Read at each request: applications the Management API creates (a bare tenant's SPA) count at once. A
            # tuple first, so that a client created on another thread meanwhile never breaks the walk.
            cors=CorsPolicy(
                lambda: [origin for client in tuple(self.clients.values()) for origin in client.web_origins]
            ),
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
