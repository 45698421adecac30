"""``python -m sandbox serve | token EMAIL | reset``: run the offline Auth0 tenant and work with its state."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from sandbox.defaults import (
    DEFAULT_API_AUDIENCE,
    DEFAULT_BARE_STATE_PATH,
    DEFAULT_CATALOGUE,
    DEFAULT_CONNECTION,
    DEFAULT_HOST,
    DEFAULT_LOGIN_CLIENT_ID,
    DEFAULT_LOGIN_CLIENT_SECRET,
    DEFAULT_M2M_CLIENT_ID,
    DEFAULT_M2M_CLIENT_SECRET,
    DEFAULT_PORT,
    DEFAULT_SPA_ORIGIN,
    DEFAULT_STATE_PATH,
    DEFAULT_TENANT_CLIENT_ID,
    LOCAL_POST_LOGIN_SECRET,
    LOCAL_POST_LOGIN_URL,
    POST_LOGIN_ACTION,
    TOKEN_LIFETIME_SECONDS,
)
from sandbox.server import SandboxServer
from sandbox.tenant.roles import CatalogueError
from sandbox.tenant.site import Site, base_url_for, is_loopback_host
from sandbox.tenant.state_file import StateFile, StateFileError
from sandbox.tenant.state_lock import StateFileInUse, StateLock
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import DEFAULT_USER_SCOPE, TokenIssuer, user_access_token


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "token":
            return _token(args)
        return _reset(args)
    except StateFileInUse as exc:
        print(f"sandbox: {exc}: stop that one first, or give this one its own --state", file=sys.stderr)
        return 2
    except (CatalogueError, StateFileError, ValueError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="An offline Auth0 tenant for development.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the tenant on a loopback port until Ctrl-C")
    serve.add_argument("--host", default=DEFAULT_HOST, help="a loopback address (default %(default)s)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s; 0 picks a free one")
    _state_option(serve)
    serve.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE, help="course catalogue seeding roles")
    serve.add_argument("--rate-limit", type=float, default=None, help="Management API requests per second (off)")
    serve.add_argument("--burst", type=int, default=None, help="bucket size (default: the rate rounded up)")
    serve.add_argument("--audience", default=DEFAULT_API_AUDIENCE, help="API audience (default %(default)s)")
    serve.add_argument("--client-id", default=DEFAULT_M2M_CLIENT_ID)
    serve.add_argument("--client-secret", default=DEFAULT_M2M_CLIENT_SECRET)
    serve.add_argument("--login-client-id", default=DEFAULT_LOGIN_CLIENT_ID)
    serve.add_argument("--login-client-secret", default=DEFAULT_LOGIN_CLIENT_SECRET)
    serve.add_argument("--connection", default=DEFAULT_CONNECTION)
    serve.add_argument(
        "--spa-origin",
        action="append",
        dest="spa_origins",
        metavar="URL",
        help=f"the SPA's origin: callback, logout and CORS URL (repeatable; default {DEFAULT_SPA_ORIGIN})",
    )
    serve.add_argument(
        "--access-token-lifetime",
        type=int,
        default=None,
        metavar="SECONDS",
        help=f"people's access tokens (default {TOKEN_LIFETIME_SECONDS}, as M2M tokens, which keep it)",
    )
    serve.add_argument(
        "--post-login-url",
        default=LOCAL_POST_LOGIN_URL,
        metavar="URL",
        help="the post-login Action's POST_LOGIN_URL: the service's route (default %(default)s)",
    )
    serve.add_argument(
        "--no-post-login-action", action="store_true", help="bind no post-login Action (logins skip the service)"
    )
    serve.add_argument(
        "--allow-signup", action="store_true", help="turn the database connection's sign-ups on (Auth0's default)"
    )
    serve.add_argument(
        "--bare",
        action="store_true",
        help=f"a tenant holding only the application `ops tenant` runs as ({DEFAULT_TENANT_CLIENT_ID}): no API, "
        f"roles, SPA application or connection until `ops --stage local tenant apply` makes them (state "
        f"{DEFAULT_BARE_STATE_PATH} unless --state says otherwise)",
    )
    serve.add_argument("--quiet", action="store_true", help="no line per request on stderr")

    token = commands.add_parser("token", help="print an access token for a sandbox user")
    token.add_argument("email")
    _state_option(token)
    token.add_argument("--audience", default=None, help="default: the audience the sandbox last served")
    token.add_argument("--base-url", default=None, help="issuer base URL (default: where it last served)")
    token.add_argument("--scope", default=DEFAULT_USER_SCOPE)

    reset = commands.add_parser("reset", help="forget users, passwords, outbox and logins (stop the server first)")
    _state_option(reset)
    reset.add_argument("--new-key", action="store_true", help="also replace the signing key")
    return parser


def _state_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE_PATH, help="state file (default %(default)s)")


def _serve(args: argparse.Namespace) -> int:
    if not is_loopback_host(args.host):
        print(f"sandbox: refusing to serve on {args.host}: loopback hosts only", file=sys.stderr)
        return 2
    if args.bare and args.state == DEFAULT_STATE_PATH:
        args.state = DEFAULT_BARE_STATE_PATH  # never the state a full sandbox left (its roles, its users)
    server = SandboxServer(
        host=args.host,
        port=args.port,
        state_path=args.state,
        catalogue=args.catalogue,
        rate_limit=args.rate_limit,
        burst=args.burst,
        audience=args.audience,
        client_id=args.client_id,
        client_secret=args.client_secret,
        login_client_id=args.login_client_id,
        login_client_secret=args.login_client_secret,
        connection=args.connection,
        spa_origins=args.spa_origins or (DEFAULT_SPA_ORIGIN,),
        access_token_lifetime=args.access_token_lifetime,
        bare=args.bare,
        disable_signup=not args.allow_signup,
        post_login_action=None if args.no_post_login_action else POST_LOGIN_ACTION,
        # The local stage's values: the service's route on its port, and its POST_LOGIN_SECRET.
        action_secrets={"POST_LOGIN_URL": args.post_login_url, "POST_LOGIN_SECRET": LOCAL_POST_LOGIN_SECRET},
        quiet=args.quiet,
    )
    try:
        server.start()
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})", file=sys.stderr)
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        server.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    limit = server.limiter.settings
    spa = f"SPA client {server.spa.client_id} for {', '.join(server.spa.web_origins)}"
    holds = f"bare: only the application {DEFAULT_TENANT_CLIENT_ID}" if server.bare else spa
    action = "off" if args.no_post_login_action or server.bare else f"calls {args.post_login_url}"
    print(
        f"Auth0 sandbox on {server.base_url}  (issuer {server.issuer}, audience {server.api_audience})\n"
        f"  state {args.state}, {len(server.tenant.roles)} roles, {len(server.tenant.users)} users, "
        f"rate limit {'off' if limit is None else f'{limit[0]:g}/s burst {limit[1]}'}, "
        f"user access tokens {server.access_token_lifetime} s\n"
        f"  {holds}; post-login Action {action}\n"
        f"  dev views: {server.base_url}/sandbox/state  (Ctrl-C stops)",
        flush=True,
    )
    try:
        server.wait()
    finally:
        server.stop()
    return 0


def _token(args: argparse.Namespace) -> int:
    store = StateFile(args.state)
    if store.load() is None:
        print(f"sandbox: no state at {args.state}; start the sandbox and create the user first", file=sys.stderr)
        return 1
    tenant = Tenant(store=store, connection=DEFAULT_CONNECTION, read_only=True)
    tenant.connection = tenant.served_at.get("connection", DEFAULT_CONNECTION)
    user = tenant.database_user(args.email) or next(iter(tenant.users_by_email(args.email.strip().lower())), None)
    if user is None:
        print(f"sandbox: no user with e-mail {args.email.strip().lower()} in {args.state}", file=sys.stderr)
        return 1
    base_url = args.base_url or tenant.served_at.get("base_url") or base_url_for(DEFAULT_HOST, DEFAULT_PORT)
    site = Site(
        base_url=base_url.rstrip("/"),
        api_audience=args.audience or tenant.served_at.get("api_audience", DEFAULT_API_AUDIENCE),
    )
    token, _ = user_access_token(
        TokenIssuer(tenant.signing_key, site.issuer),
        tenant,
        site,
        user,
        client_id=tenant.served_at.get("login_client_id", DEFAULT_LOGIN_CLIENT_ID),
        scope=args.scope,
        lifetime=TOKEN_LIFETIME_SECONDS,
    )
    print(token)
    return 0


def _reset(args: argparse.Namespace) -> int:
    try:
        lock = StateLock.acquire(args.state)
    except StateFileInUse as busy:
        # The running sandbox keeps its tenant in memory and would write it all back: reset that one.
        print(
            f"sandbox: not reset: {busy}. Reset the running sandbox with `curl -X POST -H "
            f"'Content-Type: application/json' {_served_base_url(args.state)}/sandbox/reset`, or stop it first",
            file=sys.stderr,
        )
        return 1
    try:
        return _reset_file(args)
    finally:
        lock.release()


def _served_base_url(state: Path) -> str:
    try:
        document = StateFile(state).load() or {}
    except StateFileError:
        document = {}
    served = document.get("served_at")
    base_url = served.get("base_url") if isinstance(served, dict) else None
    return base_url if isinstance(base_url, str) else base_url_for(DEFAULT_HOST, DEFAULT_PORT)


def _reset_file(args: argparse.Namespace) -> int:
    store = StateFile(args.state)
    try:
        tenant = Tenant(store=store, connection=DEFAULT_CONNECTION)
    except StateFileError:
        store.delete()
        tenant = Tenant(store=store, connection=DEFAULT_CONNECTION)
        print(f"sandbox: {args.state} was unreadable; started a fresh one")
    removed = len(tenant.users)
    tenant.reset(new_key=args.new_key)
    print(f"sandbox: reset {args.state} ({removed} users removed{', new signing key' if args.new_key else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
