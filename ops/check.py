"""`ops check`: is the Auth0 tenant configured as this deployment needs? Says how to fix what is not."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from chalicelib.credentials import ServiceCredentials

if TYPE_CHECKING:
    from ops.settings import Settings
    from ops.tenant.checks import Finding

CHECK_DOC = """Check the Auth0 tenant against what this deployment needs, and say how to fix what is wrong.

- the service's M2M application (client_id from its secret) holds exactly read:users, create:users,
  update:users, read:roles, create:role_members, delete:role_members on the Management API;
- the API named by AUTH0_AUDIENCE exists, has RBAC enabled and adds permissions to access tokens;
- every catalogue course's role exists and carries the course's permission on that API;
- the API's access tokens live no longer than ACCESS_TOKEN_MAX_LIFETIME_SECONDS (or
  --max-token-lifetime; default 600 s), since a refunded buyer keeps a token until it expires
  (a warning, not a failure);
- with --stack (the service's secret): whether the secret holds the Gumroad token the scheduled
  reconciliation needs (without it the reconciliation is off: a warning, not a failure).

It reads through the Management API and needs read:client_grants, read:roles and
read:resource_servers. It runs as the service's application unless AUTH0_CHECK_CLIENT_ID and
AUTH0_CHECK_CLIENT_SECRET name a separate one (recommended: the service then keeps exactly its six
scopes; run as the service, the two extra read scopes are reported as a warning). Changes nothing.
The exit code is 1 when something is wrong.
"""


def add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    from chalicelib import wiring
    from ops.tenant.checks import Target, as_table, failed, run_checks

    settings.require_auth0()
    purchase = wiring.get_purchase_settings()
    catalogue = wiring.get_catalogue()
    service = wiring.get_credentials()
    separate = settings.check_application()
    target = Target(
        service_client_id=service.get().client_id,
        management_audience=purchase.auth0.management_audience,
        api_identifier=settings.api_audience(),
        catalogue=catalogue,
        checker_is_service=separate is None,
        max_token_lifetime=settings.max_token_lifetime(args.max_token_lifetime, option="--max-token-lifetime"),
    )
    credentials = FixedCredentials(*separate) if separate else service
    findings = run_checks(wiring.management_client(credentials), target)
    if purchase.secret_id is not None:  # a deployed stage: its secret says whether the reconciliation runs
        findings.append(reconciliation_finding(service.get()))
    print(as_table(findings))
    return 1 if failed(findings) else 0


def reconciliation_finding(credentials: ServiceCredentials) -> Finding:
    """Whether the stage's secret holds the Gumroad token the scheduled reconciliation needs (a warning if not)."""
    from ops.tenant.checks import OK, WARN, Finding

    subject = "scheduled reconciliation"
    if credentials.gumroad_access_token:
        return Finding(OK, subject, "on: the secret holds its gumroad_access_token")
    return Finding(
        WARN,
        subject,
        "off: the secret has no gumroad_access_token, so only pings grant and revoke (each run logs "
        "reconciliation_off)",
        "add an OAuth token of your Gumroad application with the view_sales scope to the secret as "
        "gumroad_access_token (docs/purchases.md, Reconciliation)",
    )


class FixedCredentials:
    """The credentials of a separate operator application (``AUTH0_CHECK_CLIENT_ID``/``_SECRET``)."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self._credentials = ServiceCredentials(
            client_id=client_id, client_secret=client_secret, gumroad_ping_secrets=()
        )

    def get(self) -> ServiceCredentials:
        return self._credentials

    def invalidate(self) -> None:
        return None
