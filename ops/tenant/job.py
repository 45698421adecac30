"""One `ops tenant` run: the stage's needs, the tenant read through the bootstrap application, apply's rounds."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from chalicelib.errors import UpstreamRejected, UpstreamUnavailable
from ops.errors import Auth0Refused, NotConfigured
from ops.tenant.needs import ROOT, shown_path

if TYPE_CHECKING:
    from ops.settings import Settings
    from ops.tenant.auth0 import Calls
    from ops.tenant.files import CredentialsDestination
    from ops.tenant.model import Desired, Found
    from ops.tenant.steps import Plan, Step, Targets

T = TypeVar("T")
# apply takes the steps whose ids exist, then reads the tenant again: an empty tenant settles in three rounds.
MAX_ROUNDS = 5


def report(result: Plan) -> None:
    for note in result.notes:
        print(f"note: {note}")
    for refusal in result.refusals:
        print(f"ops: refused: {refusal}", file=sys.stderr)


class Job:
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
    def prepare(cls, args: argparse.Namespace, settings: Settings) -> Job:
        from ops.tenant.files import CredentialsFile
        from ops.tenant.needs import desired_for, post_login_action
        from ops.tenant.steps import Targets

        if not settings.stage:
            raise NotConfigured("ops tenant needs --stage NAME: the stage's settings, and the name its resources carry")
        catalogue = args.catalogue or settings.catalogue_path()
        destination: CredentialsDestination | None = None
        if args.write_credentials is not None:
            credentials_file = CredentialsFile(args.write_credentials, stage=settings.stage)
            credentials_file.check()
            destination = credentials_file
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
        from ops.tenant.read import read_tenant

        found = _translated(lambda: read_tenant(self.tenant, self.desired, secrets_of=purposes))
        stored = self.destination.read() if self.destination is not None else None
        action = replace(found.action, secrets_sent=True) if found.action and self.secrets_sent else found.action
        return replace(found, stored_credentials=stored, action=action)

    def plan(self, found: Found) -> Plan:
        from ops.tenant.plan import plan

        return plan(self.desired, found, self.targets, adopt=self.adopt)

    def converge(self) -> int:
        """Apply in rounds until a plan is empty; each round runs the steps whose ids exist."""
        made, seen = 0, set[str]()
        for _ in range(MAX_ROUNDS):
            found = self.read()
            spa = [client for client in found.clients if client.is_managed(self.stage, "spa")]
            self.spa_client_id = spa[0].client_id if spa else None
            current = self.plan(found)
            report(current)
            if current.refusals:
                changed = f"{made} change(s) were made before" if made else "nothing was changed"
                raise Refused(f"{len(current.refusals)} resource(s) in the way (above); {changed}")
            if not current.steps:
                return made
            self._refuse_an_unkept_secret(current, made)
            for step in [step for step in current.steps if step.ready]:
                self._guard_against_twice(step, seen)
                self._make(step)
                made += len(step.lines)
        raise Auth0Refused(
            f"the tenant did not settle in {MAX_ROUNDS} rounds; run `ops tenant plan` to see what is left"
        )

    def _refuse_an_unkept_secret(self, current: Plan, made: int) -> None:
        """The Action would get a POST_LOGIN_SECRET made by this run, and nothing would keep it for the service."""
        action = self.desired.action
        if self.destination is not None or action is None or not action.secret_is_new:
            return
        if any(step.kind in ("create_action", "update_action") for step in current.steps):
            changed = f"{made} change(s) were made before" if made else "nothing was changed"
            raise NotConfigured(
                "apply would give the post-login Action a new POST_LOGIN_SECRET and keep it nowhere, so the service "
                "could not check the Action's calls: give --write-credentials FILE, or set AUTH0_SECRET_ID (the "
                f"stack's secret); {changed}"
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
        from ops.tenant.files import write_role_ids
        from ops.tenant.write import make_change

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
    from ops.tenant.auth0 import Calls

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
    from ops.tenant.files import ServiceSecret

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
