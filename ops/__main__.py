""".venv/bin/python -m ops: operator commands. Anything that writes is a dry run unless --apply is given.

Settings come from the deployed stack (--stack NAME: its CloudFormation parameters and outputs give
AUTH0_DOMAIN, AUTH0_AUDIENCE, AUTH0_SECRET_ID, GUMROAD_SELLER_ID and the queue URLs, and win), from the
environment, and from a stage of .chalice/config.json for what is still unset (--stage NAME: the packaged
settings, e.g. COURSES_FILE; `--stage local` is the sandbox). A placeholder value (REPLACE...) is refused.
AWS credentials and region come from the usual boto3 sources (AWS_PROFILE, AWS_DEFAULT_REGION; AWS_REGION
is honoured too). Gumroad commands read GUMROAD_ACCESS_TOKEN (an OAuth token of your Gumroad
application with the view_sales scope). Secrets are never printed unless a command is asked to.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.errors import ServiceError
from ops.content import add_content
from ops.errors import NotConfigured
from ops.reconcile import add_reconcile

if TYPE_CHECKING:
    from collections.abc import Callable

    from auth0.management import Auth0
    from mypy_boto3_sqs import SQSClient

    from chalicelib.credentials import CredentialsSource
    from chalicelib.gumroad_api.client import GumroadApi
    from ops.backfill import Fulfil as BackfillFulfil

ROOT = Path(__file__).resolve().parent.parent
# Each past sale gets the worker's kind of budget: a backfill is not bound by Gumroad's 5 s.
BACKFILL_SALE_SECONDS = 60.0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _load_settings(stack=args.stack, stage=args.stage)
        return int(args.run(args))
    except ServiceError as error:
        return _refused(error)
    except Exception as error:
        from ops.aws import as_service_error

        translated = as_service_error(error)
        if translated is None:
            raise
        return _refused(translated)


def _refused(error: ServiceError) -> int:
    print(f"ops: {error.code}: {error.message}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=".venv/bin/python -m ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stack",
        help="read the deployed stage's settings from this CloudFormation stack, e.g. gumroad-auth0-gate-prod",
    )
    parser.add_argument("--stage", help="load this stage's environment variables from .chalice/config.json")
    commands = parser.add_subparsers(dest="command", required=True)

    dlq = commands.add_parser("dlq", help="the dead-letter queue of pings the worker could not process")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    show = dlq_commands.add_parser("show", help="list dead letters with their reason (changes nothing)")
    show.set_defaults(run=_dlq_show)
    move = dlq_commands.add_parser("redrive", help="move dead letters back to the work queue")
    move.add_argument("--apply", action="store_true", help="really move them (default: dry run)")
    move.set_defaults(run=_dlq_redrive)

    rerun = commands.add_parser("rerun", help="process one sale's dead letters now, re-reading the buyer's roles")
    rerun.add_argument("sale_id")
    rerun.add_argument("--apply", action="store_true", help="really call Auth0 (default: dry run)")
    rerun.set_defaults(run=_rerun)

    _add_subscribe(commands)
    _add_backfill(commands)
    _add_check(commands)
    _add_seller_commands(commands)
    _add_explain(commands)
    add_reconcile(commands)
    add_content(commands)
    return parser


EXPLAIN_DOC = """Why does this buyer have (or not have) each course? Read-only.

For each catalogue course: whether Auth0 holds the course's role for the buyer, the purchases behind
it from the buyer's purchase record (app_metadata) with their status and dates, which purchase grants
access or which refund, dispute or end removed it, and any disagreement between role and record with
the command that repairs it. One users-by-email lookup and one roles read per course, with the
service's own M2M application. Exit code 0 when role and record agree everywhere, 1 when a course
disagrees or no such buyer exists.
"""


def _add_explain(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain = commands.add_parser(
        "explain",
        help="one buyer's access per course, the purchases behind it, and any disagreement (read-only)",
        description=EXPLAIN_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain.add_argument("email", help="the buyer's address (as on the Gumroad purchase)")
    explain.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    explain.set_defaults(run=_explain)


def _add_seller_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gumroad = commands.add_parser("gumroad", help="your Gumroad account, as the API token sees it")
    gumroad_commands = gumroad.add_subparsers(dest="gumroad_command", required=True)
    whoami = gumroad_commands.add_parser(
        "whoami",
        help="print your seller id (GUMROAD_SELLER_ID) from GET /v2/user; compare it with the deployment's",
    )
    whoami.set_defaults(run=_gumroad_whoami)

    ping_url = commands.add_parser(
        "ping-url",
        help="the ping URL to paste into Gumroad (Settings > Advanced > Ping); the secret is masked unless --reveal",
    )
    ping_url.add_argument("--url", help="the deployed ping URL (default: the stack's GumroadPingUrl output)")
    ping_url.add_argument(
        "--reveal", action="store_true", help="print the URL with the ping secret in it (it is a password)"
    )
    ping_url.set_defaults(run=_ping_url)


SUBSCRIBE_DOC = """Gumroad resource subscriptions (API v2 webhooks) pointing at the deployed ping URL.

The post URL carries the current ping secret as userinfo (https://gumroad:SECRET@host/...), which
Gumroad sends as HTTP Basic; it is read from the service's secret (AUTH0_SECRET_ID) or
GUMROAD_PING_SECRET and always printed masked. Calls Gumroad with GUMROAD_ACCESS_TOKEN (view_sales).
"""

BACKFILL_DOC = """Fulfil the past sales of the catalogue's products through the ping's own code path.

Reads GET /v2/sales (Gumroad API v2, view_sales) for every catalogue product id, page by page
(page_key), and hands each sale, as the `sale` ping would carry it, to the deployment's fulfilment
with verify_role (a role the buyer's record says is held is read back from Auth0). It uses the
service's own M2M credentials and scopes. Running it again is safe: a buyer whose record already
holds the sale and the role costs no write and is counted as "already had access".

Skipped before any Auth0 call: refunded and charged-back sales, memberships that are no longer
alive (ended, failed, or cancelled with the date passed), a gift's purchase by the giver (the
giftee's own purchase is not in the Sales API: resend its ping from Gumroad instead), other
sellers' sales, and the later charges of a membership (it is fulfilled once). The Sales API never
lists test purchases. Catalogue keys that are not product ids (permalinks, URLs) cannot be queried.

Dry run (the default): read-only lookups in Auth0 (users-by-email, a user's roles) to say who
would be created or granted; no user, role, record or e-mail is written. With --apply, new buyers
get the deployment's onboarding e-mail (BUYER_ONBOARDING), as after a ping; a buyer given the role
by hand earlier gets a purchase record and is counted as granted (Auth0 keeps one role).
Progress goes to stderr, the summary to stdout. A run stops after 10 failures in a row; the exit
code is 1 when a sale failed or the run stopped.
"""

CHECK_DOC = """Check the Auth0 tenant against what this deployment needs, and say how to fix what is wrong.

- the service's M2M application (client_id from its secret) holds exactly read:users, create:users,
  update:users, read:roles, create:role_members, delete:role_members on the Management API;
- the API named by AUTH0_AUDIENCE exists, has RBAC enabled and adds permissions to access tokens;
- every catalogue course's role exists and carries the course's permission on that API;
- the API's access tokens live no longer than ACCESS_TOKEN_MAX_LIFETIME_SECONDS (or
  --max-token-lifetime; default 600 s), since a refunded buyer keeps a token until it expires
  (a warning, not a failure).

It reads through the Management API and needs read:client_grants, read:roles and
read:resource_servers. It runs as the service's application unless AUTH0_CHECK_CLIENT_ID and
AUTH0_CHECK_CLIENT_SECRET name a separate one (recommended: the service then keeps exactly its six
scopes; run as the service, the two extra read scopes are reported as a warning). Changes nothing.
The exit code is 1 when something is wrong.
"""


def _add_subscribe(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from chalicelib.purchases.gumroad import RESOURCE_NAMES
    from ops.subscriptions import DEFAULT_RESOURCES

    subscribe = commands.add_parser(
        "subscribe",
        help="Gumroad resource subscriptions for the ping URL: list, add, remove",
        description=SUBSCRIBE_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = subscribe.add_subparsers(dest="subscribe_command", required=True)
    every = ",".join(RESOURCE_NAMES)

    listing = actions.add_parser("list", help="show live subscriptions of every OAuth application (changes nothing)")
    listing.add_argument("--resources", help=f"comma-separated resource names (default: all of {every})")
    listing.set_defaults(run=_subscribe_list)

    add = actions.add_parser(
        "add", help="subscribe the ping URL to each resource not yet subscribed (dry run unless --apply)"
    )
    add.add_argument(
        "--url",
        help="the deployed ping URL, e.g. https://ID.execute-api.REGION.amazonaws.com/api/gumroad/ping "
        "(default: the stack's GumroadPingUrl output, GUMROAD_PING_URL)",
    )
    add.add_argument("--resources", help=f"comma-separated resource names (default: {','.join(DEFAULT_RESOURCES)})")
    add.add_argument(
        "--include-sale",
        action="store_true",
        help="subscribe to `sale` too (if the settings-page Ping URL does not already send sales here)",
    )
    add.add_argument("--apply", action="store_true", help="really subscribe (default: dry run)")
    add.set_defaults(run=_subscribe_add)

    remove = actions.add_parser("remove", help="delete this OAuth application's subscriptions (dry run unless --apply)")
    remove.add_argument("--url", help="only those posting to this URL (credentials aside)")
    remove.add_argument("--resources", help=f"comma-separated resource names (default: all of {every})")
    remove.add_argument(
        "--stale", action="store_true", help="keep those carrying the current ping secret (after a rotation)"
    )
    remove.add_argument("--apply", action="store_true", help="really delete (default: dry run)")
    remove.set_defaults(run=_subscribe_remove)


def _add_backfill(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backfill = commands.add_parser(
        "backfill",
        help="fulfil past Gumroad sales of the catalogue's products (dry run unless --apply)",
        description=BACKFILL_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backfill.add_argument("--after", help="only sales on or after this day (YYYY-MM-DD)")
    backfill.add_argument("--before", help="only sales before this day (YYYY-MM-DD)")
    backfill.add_argument("--product", action="append", default=[], help="only this catalogue product id (repeatable)")
    backfill.add_argument("--verbose", action="store_true", help="also list the sales whose buyer already had access")
    backfill.add_argument(
        "--apply", action="store_true", help="really create buyers and assign roles (default: dry run)"
    )
    backfill.set_defaults(run=_backfill)


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="verify the Auth0 configuration (grant, API, roles) and say how to fix it",
        description=CHECK_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--max-token-lifetime",
        type=int,
        default=None,
        metavar="SECONDS",
        help="warn when the API's access tokens live longer (default: $ACCESS_TOKEN_MAX_LIFETIME_SECONDS, else 600)",
    )
    check.set_defaults(run=_check)


def _dlq_show(args: argparse.Namespace) -> int:
    from ops.dead_letters import as_text, read_all

    letters = read_all(_sqs(), _url("PING_DEAD_LETTER_QUEUE_URL"))
    print(as_text([letter.summary() for letter in letters]))
    return 0


def _dlq_redrive(args: argparse.Namespace) -> int:
    from ops.dead_letters import as_text, redrive

    report = redrive(
        _sqs(), dead_letter_url=_url("PING_DEAD_LETTER_QUEUE_URL"), queue_url=_url("PING_QUEUE_URL"), apply=args.apply
    )
    print(as_text(report))
    return 0


def _rerun(args: argparse.Namespace) -> int:
    from chalicelib import wiring
    from chalicelib.deadlines import Deadline, upstream_scope
    from chalicelib.purchases.fulfilment import Outcome
    from chalicelib.purchases.queue import QueuedEvent
    from ops.dead_letters import as_text, rerun

    _needs_auth0()

    def fulfil(event: QueuedEvent) -> Outcome:
        with upstream_scope(Deadline.after(60.0)):
            return wiring.get_dispatch().fulfil_inline(event, verify_role=True)

    report = rerun(
        _sqs(),
        dead_letter_url=_url("PING_DEAD_LETTER_QUEUE_URL"),
        sale_id=args.sale_id,
        fulfil=fulfil,
        apply=args.apply,
        queue_url=_work_queue_url(),
    )
    print(as_text(report) if report else f"no dead letter for sale {args.sale_id}")
    return 0 if report else 1


def _work_queue_url() -> str | None:
    """The deployment's work queue, when it has one: operator commands that write go through it."""
    return os.environ.get("PING_QUEUE_URL", "").strip() or None


def _explain(args: argparse.Namespace) -> int:
    from chalicelib import wiring
    from chalicelib.deadlines import Deadline, upstream_scope
    from ops.explain import as_json, as_text, explain

    _needs_auth0()
    with upstream_scope(Deadline.after(BACKFILL_SALE_SECONDS)):
        answer = explain(wiring.get_directory(), wiring.get_catalogue(), args.email, command=_command(args))
    connection = wiring.get_purchase_settings().connection
    print(as_json(answer) if args.json else as_text(answer, connection=connection))
    return 1 if answer.user_id is None or answer.disagreements else 0


def _command(args: argparse.Namespace) -> str:
    """This invocation's prefix, so a printed repair command runs against the same deployment."""
    chosen = (f" --stack {args.stack}" if args.stack else "") + (f" --stage {args.stage}" if args.stage else "")
    return f".venv/bin/python -m ops{chosen}"


def _gumroad() -> GumroadApi:
    from chalicelib.config.reconcile_settings import gumroad_access_token
    from chalicelib.gumroad_api.client import GumroadApi

    return GumroadApi(access_token=gumroad_access_token(os.environ))


def _ping_secret() -> str:
    from chalicelib import wiring

    _needs_credentials()
    return wiring.get_credentials().get().gumroad_ping_secrets[0]


def _gumroad_whoami(args: argparse.Namespace) -> int:
    from ops.whoami import report

    code, text = report(_gumroad().user(), configured=os.environ.get("GUMROAD_SELLER_ID", "").strip() or None)
    print(text)
    return code


def _ping_url(args: argparse.Namespace) -> int:
    from ops.subscriptions import endpoint, mask, with_secret

    url = endpoint(args.url or _required("GUMROAD_PING_URL", what="the stack's GumroadPingUrl output; or --url"))
    full = with_secret(url, _ping_secret())
    print(full if args.reveal else mask(full))
    if not args.reveal:
        print("(the secret is masked: add --reveal to print it, e.g. to paste into Gumroad)", file=sys.stderr)
    return 0


def _subscribe_list(args: argparse.Namespace) -> int:
    from chalicelib.purchases.gumroad import RESOURCE_NAMES
    from ops.subscriptions import as_table, list_subscriptions, parse_resources

    resources = parse_resources(args.resources) if args.resources else RESOURCE_NAMES
    print(as_table(list_subscriptions(_gumroad(), resources)))
    return 0


def _subscribe_add(args: argparse.Namespace) -> int:
    from ops.subscriptions import add_subscriptions, as_table, endpoint, parse_resources

    url = endpoint(args.url or _required("GUMROAD_PING_URL", what="the stack's GumroadPingUrl output; or --url"))
    resources = parse_resources(args.resources, include_sale=args.include_sale)
    api = _gumroad()
    print(as_table(add_subscriptions(api, url=url, secret=_ping_secret(), resources=resources, apply=args.apply)))
    return 0


def _subscribe_remove(args: argparse.Namespace) -> int:
    from chalicelib.purchases.gumroad import RESOURCE_NAMES
    from ops.subscriptions import as_table, endpoint, parse_resources, remove_subscriptions

    url = endpoint(args.url) if args.url else None
    resources = parse_resources(args.resources) if args.resources else RESOURCE_NAMES
    api = _gumroad()
    keep = _ping_secret() if args.stale else None
    print(as_table(remove_subscriptions(api, url=url, resources=resources, keep_secret=keep, apply=args.apply)))
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from chalicelib import wiring
    from ops.backfill import Progress, checked_date, collect, estimate, plan, run

    after = checked_date(args.after, "--after")
    before = checked_date(args.before, "--before")
    _needs_auth0()
    api = _gumroad()
    settings = wiring.get_purchase_settings()
    catalogue = wiring.get_catalogue()
    fulfil = _backfill_fulfil(apply=args.apply)
    sales, notes = collect(api, catalogue, products=args.product, after=after, before=before, progress=sys.stderr)
    planned = plan(sales, seller_id=settings.seller_id)
    print(estimate(planned, apply=args.apply, rate=settings.management_rate), file=sys.stderr)
    progress = Progress(len(planned), stream=sys.stderr, apply=args.apply)
    report = run(planned, fulfil=fulfil, apply=args.apply, progress=progress)
    report.notes[:0] = notes
    print(report.as_text(verbose=args.verbose))
    return 1 if report.failed or report.stopped else 0


def _backfill_fulfil(*, apply: bool) -> BackfillFulfil:
    """Where each past sale goes: the work queue when there is one, else the ping's fulfilment here."""
    from chalicelib import wiring
    from chalicelib.aws.sqs import PingQueue
    from chalicelib.deadlines import Deadline, upstream_scope
    from chalicelib.purchases.events import SaleEvent
    from chalicelib.purchases.fulfilment import Outcome
    from ops.backfill import dry_run_fulfilment, queue_fulfilment

    settings = wiring.get_purchase_settings()
    queue_url = _work_queue_url()
    if apply and queue_url is not None:
        queue = PingQueue(client_factory=_sqs, queue_url=queue_url)
        return queue_fulfilment(
            queue, catalogue=wiring.get_catalogue(), provision_test_purchases=settings.provision_test_purchases
        )
    handle: Callable[..., Outcome] = wiring.get_dispatch().fulfil_inline
    if not apply:
        handle = dry_run_fulfilment(
            catalogue=wiring.get_catalogue(),
            directory=wiring.get_directory(),
            provision_test_purchases=settings.provision_test_purchases,
        ).handle

    def fulfil(event: SaleEvent) -> Outcome:
        with upstream_scope(Deadline.after(BACKFILL_SALE_SECONDS)):
            return handle(event, verify_role=True)

    return fulfil


def _check(args: argparse.Namespace) -> int:
    from chalicelib import wiring
    from ops.check import FixedCredentials, Target, as_table, failed, max_token_lifetime, run_checks

    _needs_auth0()
    settings = wiring.get_purchase_settings()
    catalogue = wiring.get_catalogue()
    service = wiring.get_credentials()
    check_id = os.environ.get("AUTH0_CHECK_CLIENT_ID", "").strip()
    check_secret = os.environ.get("AUTH0_CHECK_CLIENT_SECRET", "").strip()
    if bool(check_id) != bool(check_secret):
        raise NotConfigured("set both AUTH0_CHECK_CLIENT_ID and AUTH0_CHECK_CLIENT_SECRET, or neither")
    target = Target(
        service_client_id=service.get().client_id,
        management_audience=settings.auth0.management_audience,
        api_identifier=os.environ.get("AUTH0_AUDIENCE", "").strip() or None,
        catalogue=catalogue,
        checker_is_service=not check_id,
        max_token_lifetime=max_token_lifetime(args.max_token_lifetime, os.environ),
    )
    credentials = FixedCredentials(check_id, check_secret) if check_id else service
    findings = run_checks(_management_client(credentials), target)
    print(as_table(findings))
    return 1 if failed(findings) else 0


def _management_client(credentials: CredentialsSource) -> Auth0:
    """auth0-python's Management API client for ``check``, over wiring's transport (a recording in tests)."""
    import httpx
    from auth0.management import Auth0

    from chalicelib import wiring
    from chalicelib.auth0_api.management_token import ManagementToken
    from chalicelib.auth0_api.pacing import RetryPolicy

    settings = wiring.get_purchase_settings()
    token = ManagementToken(endpoint=settings.auth0, credentials=credentials, policy=RetryPolicy())
    http = httpx.Client(transport=wiring.auth0_transport(), follow_redirects=False, timeout=15.0)
    return Auth0(base_url=settings.auth0.management_base_url, token=token, max_retries=1, httpx_client=http)


def _url(name: str) -> str:
    return _required(name, what="the queue's URL, an output of the stack")


def _required(name: str, *, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise NotConfigured(
            f"{name} ({what}) is not set: pass --stack <your stack name> to read the deployed stack, "
            f"--stage local for the sandbox, or export {name}"
        )
    return value


def _needs_auth0() -> None:
    """The Auth0 settings every Auth0 command needs, checked before any call, in one line."""
    _required("AUTH0_DOMAIN", what="the Auth0 tenant")
    _needs_credentials()
    _catalogue_filled_in()


def _needs_credentials() -> None:
    from ops import aws

    if os.environ.get("AUTH0_SECRET_ID", "").strip():
        aws.ready()  # the service's secret is read from Secrets Manager
    elif not os.environ.get("AUTH0_CLIENT_ID", "").strip():
        _required("AUTH0_SECRET_ID", what="the service's secret in Secrets Manager")


def _catalogue_filled_in() -> None:
    from chalicelib.config.environment import resolve_courses_file
    from ops.packaging import catalogue_problems

    path = Path(resolve_courses_file(os.environ, app_dir=ROOT))
    problems = [line for line in catalogue_problems(path, shown_as=path.name) if "placeholder" in line]
    if problems:
        raise NotConfigured("; ".join(problems) + " (fill in the catalogue, docs/creator-guide.md Deploy step 3)")


def _sqs() -> SQSClient:
    from ops import aws

    return aws.sqs()


# What ops reads from the environment: a placeholder in any of them is refused before a command runs.
OPS_SETTINGS = (
    "AUTH0_DOMAIN",
    "AUTH0_AUDIENCE",
    "AUTH0_SECRET_ID",
    "AUTH0_CLIENT_ID",
    "GUMROAD_SELLER_ID",
    "COURSES_FILE",
    "PING_QUEUE_URL",
    "PING_DEAD_LETTER_QUEUE_URL",
    "GUMROAD_PING_URL",
    "AUTH0_CHECK_CLIENT_ID",
    "CONTENT_BUCKET",
)


def _load_settings(*, stack: str | None, stage: str | None) -> None:
    """The stack's settings (they win: the stack is what is deployed), then the environment, then the stage's."""
    from ops import aws
    from ops.placeholders import placeholders_in

    aws.honour_aws_region(os.environ)
    origin: dict[str, str] = {}
    if stack:
        from ops.stack import read_stack

        for name, value in read_stack(aws.cloudformation(), stack).settings().items():
            if os.environ.get(name, value) != value:
                print(f"ops: note: {name} is the stack's, not the one in your environment", file=sys.stderr)
            os.environ[name] = value
            origin[name] = f"stack {stack}"
    if stage:
        for name, value in _stage_variables(stage).items():
            if name not in os.environ:
                os.environ[name] = value
                origin[name] = f".chalice/config.json stage {stage!r}"
    aws.honour_aws_region(os.environ)  # again: a stage may name the region (the local one does)
    bad = placeholders_in(os.environ, OPS_SETTINGS)
    if bad:
        listed = "; ".join(f"{name}={value} (from {origin.get(name, 'the environment')})" for name, value in bad)
        raise NotConfigured(
            f"placeholder settings: {listed}. Use --stack <your stack name> for a deployed stage, or set the real value"
        )


def _stage_variables(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        raise NotConfigured(f"no stage {stage!r} in .chalice/config.json")
    variables = {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}
    return {name: str(value) for name, value in variables.items()}


if __name__ == "__main__":
    raise SystemExit(main())
