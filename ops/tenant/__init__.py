"""`ops tenant plan|apply`: the Auth0 tenant as code, from the stage's settings and its course catalogue.

The package: ``model`` (plain data), ``needs`` (what the stage wants), ``read`` (what the tenant holds),
``plan`` and ``plan_apps`` (the steps between them, pure), ``steps`` (their vocabulary), ``job`` (one run:
rounds of steps), ``write`` (the Management API calls), ``files`` (the catalogue and the credentials), ``auth0``
(the calls, paced, with errors named), ``checks`` (``ops check``'s reading of the same tenant).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ops.tenant.model import TENANT_SCOPE_LINES
from ops.tenant.needs import LOCAL_API_URL

if TYPE_CHECKING:
    from ops.settings import Settings

NOTHING_TO_DO = 0
CHANGES = 3

_SCOPE_LINES = "".join(f"  {' '.join(scopes)}\n" for scopes in TENANT_SCOPE_LINES)
TENANT_DOC = f"""Make the stage's Auth0 tenant what the service needs, from the stage's settings and its catalogue.

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
secret (client_id, client_secret, login_client_secret, post_login_secret, post_login_url: the URL the Action
was given, kept because Auth0 never shows it, so that a changed one is set again; created with a new
gumroad_ping_secret if it does not exist), and the login application's id into the stage's
AUTH0_LOGIN_CLIENT_ID in .chalice/config.json;
with --write-credentials FILE, into FILE as NAME=value lines (mode 0600): AUTH0_CLIENT_ID,
AUTH0_CLIENT_SECRET, AUTH0_LOGIN_CLIENT_ID, AUTH0_LOGIN_CLIENT_SECRET, VITE_AUTH0_CLIENT_ID,
POST_LOGIN_SECRET, POST_LOGIN_URL. Secrets are never printed.

It runs as a bootstrap machine-to-machine application of the tenant (AUTH0_TENANT_CLIENT_ID and
AUTH0_TENANT_CLIENT_SECRET; the local stage names the sandbox's), authorized for the Auth0 Management API
with these scopes:
{_SCOPE_LINES}A scope it lacks is named in the error (Auth0's 403 insufficient_scope). It needs --stage: the stage's
settings, and the name its resources are marked with.
"""


def add_tenant(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tenant = commands.add_parser(
        "tenant",
        help="plan or apply the Auth0 tenant the stage needs (API, roles, applications, connection, Action)",
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
    from ops.tenant.job import Job, report

    job = Job.prepare(args, settings)
    result = job.plan(job.read())
    print(f"Auth0 tenant {job.domain}, stage {job.stage}:")
    for text in result.lines:
        print(text)
    report(result)
    if not result.steps and not result.refusals:
        print("Nothing to change: the tenant is what the stage needs.")
    if result.refusals:
        return 2
    return CHANGES if result.changes_anything else NOTHING_TO_DO


def run_apply(args: argparse.Namespace, settings: Settings) -> int:
    from ops.tenant.job import Job

    job = Job.prepare(args, settings)
    print(f"Auth0 tenant {job.domain}, stage {job.stage}:")
    made = job.converge()
    if job.spa_client_id:  # not a secret: the SPA's build needs it (VITE_AUTH0_CLIENT_ID, the stack's SpaClientId)
        print(f"The SPA application's client id: {job.spa_client_id}")
    print(f"Done: {made} change{'' if made == 1 else 's'}; the tenant is what the stage needs.")
    return NOTHING_TO_DO
