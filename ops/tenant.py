"""`ops tenant plan|apply`: the Auth0 tenant as code, from the stage's settings and its course catalogue."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from chalicelib.errors import UpstreamRejected, UpstreamUnavailable
from ops.errors import Auth0Refused, NotConfigured
from ops.tenant_needs import LOCAL_API_URL, ROOT, shown_path

if TYPE_CHECKING:
    from ops.settings import Settings
    from ops.tenant_auth0 import Calls
    from ops.tenant_files import CredentialsDestination
    from ops.tenant_model import Desired, Found
    from ops.tenant_steps import Plan, Step, Targets

T = TypeVar("T")
NOTHING_TO_DO = 0
CHANGES = 3
# apply takes the steps whose ids exist, then reads the tenant again: an empty tenant settles in three rounds.
MAX_ROUNDS = 5

TENANT_DOC = """Make the stage's Auth0 tenant what the service needs, from the stage's settings and its catalogue.

  plan   changes nothing; prints one line per change (+ create/add, ~ update/write, - remove), in the order
         apply makes them. Exit 0: the tenant matches; 3: apply would change something; 2: an error, or a
         resource in the way that ops tenant did not create (see --adopt).
  apply  makes those changes, then checks that a new plan is empty. Run it again after a failure: it goes on
         from where the tenant is.

What it manages, every resource marked as its own (applications and the connection in their metadata:
managed_by=gumroad-auth0-gate, stage=STAGE; roles at the end of their description; the API by its name):
  - the API AUTH0_AUDIENCE: RS256, RBAC on, permissions in the access token, offline access, access
    tokens that live --token-lifetime seconds (ACCESS_TOKEN_MAX_LIFETIME_SECONDS, else 600), and one
    permission per course;
  - one role per course (course:SLUG) holding exactly that permission; its id is written into the
    catalogue's role_id (the stage's COURSES_FILE, or --catalogue);
  - the SPA application: callback, logout and web-origin URLs = --spa-url, else the stack's SpaUrl output,
    else CORS_ALLOW_ORIGIN; rotating refresh tokens with reuse detection, 15 days idle, 30 days absolute;
  - the service's machine-to-machine application and its grant on the Management API, exactly
    read:users update:users create:users read:roles create:role_members delete:role_members;
  - the database connection AUTH0_CONNECTION with public sign-ups off, enabled for those applications;
  - the login application (password-realm grant) when the stage sets AUTH0_LOGIN_CLIENT_ID;
  - the post-login Action "gumroad-auth0-gate STAGE post-login" (the repository's actions/post-login.js,
    node22), with its secrets POST_LOGIN_URL (--api-url, else the stack's EndpointURL, + /auth0/post-login)
    and POST_LOGIN_SECRET (the service's post_login_secret; a new random one when it has none), deployed
    and bound to the post-login trigger after the Actions already bound there (they are kept, in order).
It never deletes anything, and never changes what it did not create: a resource of the same name or
identifier that lacks its mark is refused, and nothing is changed, unless you pass --adopt NAME (e.g.
--adopt Username-Password-Authentication, the database connection every new tenant has).

Where the service's credentials go: with AUTH0_SECRET_ID (the stack's secret), into that Secrets Manager
secret (client_id, client_secret, login_client_secret, post_login_secret; created with a new
gumroad_ping_secret if it does not exist), and the login application's id into the stage's
AUTH0_LOGIN_CLIENT_ID in .chalice/config.json;
with --write-credentials FILE, into FILE as NAME=value lines (mode 0600): AUTH0_CLIENT_ID,
AUTH0_CLIENT_SECRET, AUTH0_LOGIN_CLIENT_ID, AUTH0_LOGIN_CLIENT_SECRET, VITE_AUTH0_CLIENT_ID,
POST_LOGIN_SECRET. Secrets are never printed.

It runs as a bootstrap machine-to-machine application of the tenant (AUTH0_TENANT_CLIENT_ID and
AUTH0_TENANT_CLIENT_SECRET; the local stage names the sandbox's), authorized for the Auth0 Management API
with these scopes:
  read:resource_servers create:resource_servers update:resource_servers
  read:roles create:roles update:roles
  read:clients create:clients update:clients read:client_keys
  read:client_grants create:client_grants update:client_grants
  read:connections create:connections update:connections read:connections_options update:connections_options
  read:actions create:actions update:actions
A scope it lacks is named in the error (Auth0's 403 insufficient_scope). It needs --stage: the stage's
settings, and the name its resources are marked with.
"""


def add_tenant(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tenant = commands.add_parser(
        "tenant",
        help="plan or apply the Auth0 tenant the stage needs (API, roles, applications, connection)",
        description=TENANT_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = tenant.add_subparsers(dest="tenant_command", required=True)
    for name, run, summary in (
        ("plan", run_plan, "print what apply would change; exit 0 when nothing, 3 when something"),
        ("apply", run_apply, "make the changes plan prints"),
    ):
        command = actions.add_parser(name, help=summary, description=f"{summary}. See `ops tenant --help`.")
        command.add_argument(
            "--catalogue",
            type=Path,
            metavar="FILE",
            help="the course catalogue to read, and to write the role ids into (default: the stage's COURSES_FILE)",
        )
        command.add_argument(
            "--spa-url",
            action="append",
            default=[],
            metavar="URL",
            help="where the SPA is served, e.g. https://d1234.cloudfront.net (repeat for more; default: the stack's "
            "SpaUrl output, else CORS_ALLOW_ORIGIN)",
        )
        command.add_argument(
            "--adopt",
            action="append",
            default=[],
            metavar="NAME",
            help="take over the existing resource of this name (it is marked, then changed as needed); repeat",
        )
        command.add_argument(
            "--write-credentials",
            type=Path,
            metavar="FILE",
            help="write the applications' ids and secrets into FILE (NAME=value lines, mode 0600) instead of "
            "the AUTH0_SECRET_ID secret",
        )
        command.add_argument(
            "--api-url",
            metavar="URL",
            help="the service's base URL, which the post-login Action calls (its POST_LOGIN_URL is "
            f"URL/auth0/post-login; default: the stack's EndpointURL output, for --stage local {LOCAL_API_URL})",
        )
        command.add_argument(
            "--token-lifetime",
            type=int,
            metavar="SECONDS",
            help="the API's access-token lifetime (default: $ACCESS_TOKEN_MAX_LIFETIME_SECONDS, else 600)",
        )
        command.set_defaults(run=run)


def run_plan(args: argparse.Namespace, settings: Settings) -> int:
    job = _Job.prepare(args, settings)
    result = job.plan(job.read())
    print(f"Auth0 tenant {job.domain}, stage {job.stage}:")
    for text in result.lines:
        print(text)
    _report(result)
    if not result.steps and not result.refusals:
        print("Nothing to change: the tenant is what the stage needs.")
    if result.refusals:
        return 2
    return CHANGES if result.changes_anything else NOTHING_TO_DO


def run_apply(args: argparse.Namespace, settings: Settings) -> int:
    job = _Job.prepare(args, settings)
    print(f"Auth0 tenant {job.domain}, stage {job.stage}:")
    made = job.converge()
    if job.spa_client_id:  # not a secret: the SPA's build needs it (VITE_AUTH0_CLIENT_ID, the stack's SpaClientId)
        print(f"The SPA application's client id: {job.spa_client_id}")
    print(f"Done: {made} change{'' if made == 1 else 's'}; the tenant is what the stage needs.")
    return NOTHING_TO_DO


def _report(result: Plan) -> None:
    for note in result.notes:
        print(f"note: {note}")
    for refusal in result.refusals:
        print(f"ops: refused: {refusal}", file=sys.stderr)


class _Job:
    """One run: the stage's needs, the tenant, where the results go."""

    def __init__(
        self,
        *,
        stage: str,
        domain: str,
        desired: Desired,
        tenant: Calls,
        targets: Targets,
        catalogue: Path,
        destination: CredentialsDestination | None,
        adopt: Sequence[str],
    ) -> None:
        self.stage = stage
        self.domain = domain
        self.desired = desired
        self.tenant = tenant
        self.targets = targets
        self.catalogue = catalogue
        self.destination = destination
        self.adopt = tuple(adopt)
        self.spa_client_id: str | None = None
        self.secrets_sent = False  # the Action's secrets were set by this run

    @classmethod
    def prepare(cls, args: argparse.Namespace, settings: Settings) -> _Job:
        from ops.tenant_files import CredentialsFile
        from ops.tenant_needs import desired_for, post_login_action
        from ops.tenant_steps import Targets

        if not settings.stage:
            raise NotConfigured("ops tenant needs --stage NAME: the stage's settings, and the name its resources carry")
        catalogue = args.catalogue or settings.catalogue_path()
        destination: CredentialsDestination | None = None
        if args.write_credentials is not None:
            destination = CredentialsFile(args.write_credentials, stage=settings.stage)
        elif settings.secret_id() is not None:
            destination = _service_secret(settings)
        targets = Targets(
            catalogue=shown_path(catalogue),
            credentials=destination.description if destination else None,
            credential_keys=destination.keys if destination else (),
        )
        endpoint = settings.auth0_endpoint()
        stored = destination.read() if destination is not None else None
        action = post_login_action(args, settings, stored.values if stored is not None else {})
        return cls(
            stage=settings.stage,
            domain=endpoint.base_url,
            desired=desired_for(args, settings, catalogue, endpoint.management_audience, action),
            tenant=_tenant_api(settings),
            targets=targets,
            catalogue=catalogue,
            destination=destination,
            adopt=args.adopt,
        )

    def read(self) -> Found:
        from dataclasses import replace

        purposes = ("service", "login") if self.destination is not None else ()
        from ops.tenant_read import read_tenant

        found = _translated(lambda: read_tenant(self.tenant, self.desired, secrets_of=purposes))
        stored = self.destination.read() if self.destination is not None else None
        action = replace(found.action, secrets_sent=True) if found.action and self.secrets_sent else found.action
        return replace(found, stored_credentials=stored, action=action)

    def plan(self, found: Found) -> Plan:
        from ops.tenant_plan import plan

        return plan(self.desired, found, self.targets, adopt=self.adopt)

    def converge(self) -> int:
        """Apply in rounds until a plan is empty; each round runs the steps whose ids exist."""
        made, seen = 0, set[str]()
        for _ in range(MAX_ROUNDS):
            found = self.read()
            spa = [client for client in found.clients if client.is_managed(self.stage, "spa")]
            self.spa_client_id = spa[0].client_id if spa else None
            current = self.plan(found)
            _report(current)
            if current.refusals:
                changed = f"{made} change(s) were made before" if made else "nothing was changed"
                raise Refused(f"{len(current.refusals)} resource(s) in the way (above); {changed}")
            if not current.steps:
                return made
            for step in [step for step in current.steps if step.ready]:
                self._guard_against_twice(step, seen)
                self._make(step)
                made += len(step.lines)
        raise Auth0Refused(
            f"the tenant did not settle in {MAX_ROUNDS} rounds; run `ops tenant plan` to see what is left"
        )

    def _guard_against_twice(self, step: Step, seen: set[str]) -> None:
        """A create planned again in a later round means Auth0 did not show what it just made: stop, not duplicate."""
        if not step.kind.startswith("create_"):
            return
        key = f"{step.kind}:{step.lines[0]}"
        if key in seen:
            raise Auth0Refused(f"Auth0 does not show what was just created ({step.lines[0][2:]}); run apply again")
        seen.add(key)

    def _make(self, step: Step) -> None:
        from ops.tenant_files import write_role_ids
        from ops.tenant_write import make_change

        if step.kind == "write_role_ids":
            write_role_ids(self.catalogue, step.payload["role_ids"])
            self._catalogue_now_holds(step.payload["role_ids"])
        elif step.kind == "write_credentials":
            assert self.destination is not None
            self.destination.write(step.payload["values"])
        else:
            _translated(lambda: make_change(self.tenant, step))
            self.secrets_sent |= step.kind in ("create_action", "update_action")
        for text in step.lines:
            print(text, flush=True)

    def _catalogue_now_holds(self, role_ids: dict[str, str]) -> None:
        """The next round compares the tenant's role ids with what the catalogue holds now."""
        from dataclasses import replace

        roles = tuple(
            replace(role, catalogue_role_id=role_ids.get(role.slug, role.catalogue_role_id))
            for role in self.desired.roles
        )
        self.desired = replace(self.desired, roles=roles)


class Refused(Auth0Refused):
    """A resource ops tenant did not create is in the way (``--adopt NAME`` takes it over)."""

    code = "refused"


def _tenant_api(settings: Settings) -> Calls:
    from chalicelib.auth0_api.directory import build_management_client
    from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy
    from ops.check import FixedCredentials
    from ops.tenant_auth0 import Calls

    rate, burst = settings.management_rate()
    pacer = RateLimitPacer(rate=rate, burst=burst, max_wait_seconds=60.0)
    policy = RetryPolicy(per_call_timeout=15.0)
    credentials = FixedCredentials(*settings.tenant_application())
    # The service's builder, as the service calls Auth0, for the bootstrap application and the stage's tenant.
    client, _ = build_management_client(
        endpoint=settings.auth0_endpoint(), credentials=credentials, policy=policy, pacer=pacer
    )
    return Calls(client, pacer=pacer, policy=policy)


def _service_secret(settings: Settings) -> CredentialsDestination:
    from ops import aws
    from ops.tenant_files import ServiceSecret

    secret_id = settings.secret_id()
    assert secret_id is not None
    assert settings.stage is not None
    return ServiceSecret(
        aws.secretsmanager(), secret_id, config=ROOT / ".chalice" / "config.json", stage=settings.stage
    )


def _translated(call: Callable[[], T]) -> T:
    """The bootstrap token's failures, said of the bootstrap application (not of the service's)."""
    try:
        return call()
    except UpstreamRejected:
        raise Auth0Refused(
            "Auth0 refused the bootstrap application's credentials (AUTH0_TENANT_CLIENT_ID, "
            "AUTH0_TENANT_CLIENT_SECRET): check them, and that it is authorized for the Auth0 Management API"
        ) from None
    except UpstreamUnavailable as error:
        raise Auth0Refused(f"{error.message}; run the command again") from None
