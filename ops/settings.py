"""The operator commands' settings: --stack and --stage fill the environment, then each command reads what it needs.

Every setting the service reads too is read through its loader in ``chalicelib.config`` (a queue URL must be a FIFO
queue's for ops as for the service), and only when a command asks for it: ``gumroad whoami`` runs without any Auth0
setting. The service's own objects (``chalicelib.wiring``) read the same environment.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from chalicelib.config.access_settings import CorsPolicy, load_cors_policy
from chalicelib.config.environment import (
    DEFAULT_COURSES_FILE,
    api_audience,
    auth0_base_url,
    number,
    optional,
    resolve_courses_file,
)
from chalicelib.config.purchase_settings import (
    DEAD_LETTER_QUEUE_URL,
    DEFAULT_CONNECTION,
    QUEUE_URL,
    Auth0Endpoint,
    parse_auth0_domain,
    provision_test_purchases,
    queue_url,
    seller_id,
)
from chalicelib.config.reconcile_settings import gumroad_access_token, load_reconcile_settings
from chalicelib.errors import ConfigurationError
from ops import aws
from ops.errors import InvalidOption, NotConfigured
from ops.placeholders import placeholders_in

if TYPE_CHECKING:
    from chalicelib.config.reconcile_settings import ReconcileSettings

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ".venv/bin/python -m ops"
# What ops reads from the environment: a placeholder in any of them is refused before a command runs.
OPS_SETTINGS = (
    "AUTH0_DOMAIN",
    "AUTH0_AUDIENCE",
    "AUTH0_SECRET_ID",
    "AUTH0_CLIENT_ID",
    "GUMROAD_SELLER_ID",
    "COURSES_FILE",
    QUEUE_URL,
    DEAD_LETTER_QUEUE_URL,
    "GUMROAD_PING_URL",
    "AUTH0_CHECK_CLIENT_ID",
    "AUTH0_TENANT_CLIENT_ID",
    "AUTH0_CONNECTION",
    "CONTENT_BUCKET",
)
_QUEUE = "the queue's URL, an output of the stack"
# The SPA's URL, an output of the stack once it hosts the SPA (ops tenant registers it with Auth0).
SPA_URL = "SPA_URL"
# A refund or dispute removes the role at once, but a token already issued keeps its permissions until it
# expires: the API's access-token lifetime is how long a refunded buyer can still open the course (`check`).
MAX_TOKEN_LIFETIME_SETTING = "ACCESS_TOKEN_MAX_LIFETIME_SECONDS"  # noqa: S105 - a setting name
DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 600
# Where the SPA is hosted: outputs of the stack (ops/stack.py, OPTIONAL_OUTPUTS), by setting.
SPA_HOSTING = {"SPA_URL": "SpaUrl", "SPA_BUCKET": "SpaBucketName", "SPA_DISTRIBUTION_ID": "SpaDistributionId"}


class SpaHosting(NamedTuple):
    """The stack's home for the SPA: its public URL, the private bucket behind it and the CloudFront distribution."""

    url: str
    bucket: str
    distribution_id: str


def load_settings(*, stack: str | None, stage: str | None, environ: MutableMapping[str, str] = os.environ) -> Settings:
    """The stack's settings (they win: the stack is what is deployed), then the environment, then the stage's."""
    aws.honour_aws_region(environ)
    origin: dict[str, str] = {}
    if stack:
        from ops.stack import read_stack

        for name, value in read_stack(aws.cloudformation(), stack).settings().items():
            if environ.get(name, value) != value:
                print(f"ops: note: {name} is the stack's, not the one in your environment", file=sys.stderr)
            environ[name] = value
            origin[name] = f"stack {stack}"
    if stage:
        for name, value in _stage_variables(stage).items():
            if name not in environ:
                environ[name] = value
                origin[name] = f".chalice/config.json stage {stage!r}"
    aws.honour_aws_region(environ)  # again: a stage may name the region (the local one does)
    bad = placeholders_in(environ, OPS_SETTINGS)
    if bad:
        listed = "; ".join(f"{name}={value} (from {origin.get(name, 'the environment')})" for name, value in bad)
        raise NotConfigured(
            f"placeholder settings: {listed}. Use --stack <your stack name> for a deployed stage, or set the real value"
        )
    return Settings(environ, stack=stack, stage=stage)


def _stage_variables(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        raise NotConfigured(f"no stage {stage!r} in .chalice/config.json")
    variables = {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}
    return {name: str(value) for name, value in variables.items()}


class Settings:
    """What the commands read from the environment, each setting when a command asks for it."""

    def __init__(self, environ: Mapping[str, str], *, stack: str | None = None, stage: str | None = None) -> None:
        self._environ = environ
        self.stack = stack
        self.stage = stage

    @property
    def command(self) -> str:
        """This invocation's prefix, so that a printed repair command runs against the same deployment."""
        chosen = (f" --stack {self.stack}" if self.stack else "") + (f" --stage {self.stage}" if self.stage else "")
        return f"{PROGRAM}{chosen}"

    def dead_letter_queue_url(self) -> str:
        return self._required(DEAD_LETTER_QUEUE_URL, queue_url(self._environ, DEAD_LETTER_QUEUE_URL), what=_QUEUE)

    def queue_url(self) -> str:
        return self._required(QUEUE_URL, self.work_queue_url(), what=_QUEUE)

    def work_queue_url(self) -> str | None:
        """The deployment's work queue, when it has one: operator commands that write go through it."""
        return queue_url(self._environ, QUEUE_URL)

    def ping_url(self) -> str:
        name = "GUMROAD_PING_URL"
        return self._required(name, optional(self._environ, name), what="the stack's GumroadPingUrl output; or --url")

    def seller_id(self) -> str | None:
        return seller_id(self._environ)

    def provision_test_purchases(self) -> bool:
        return provision_test_purchases(self._environ)

    def api_audience(self) -> str | None:
        return api_audience(self._environ)

    def gumroad_access_token(self) -> str:
        return gumroad_access_token(self._environ)

    def reconcile_settings(self) -> ReconcileSettings:
        return load_reconcile_settings(self._environ)

    def check_application(self) -> tuple[str, str] | None:
        """``(client id, secret)`` of the separate application ``check`` runs as, or None: the service's."""
        client_id = optional(self._environ, "AUTH0_CHECK_CLIENT_ID")
        secret = optional(self._environ, "AUTH0_CHECK_CLIENT_SECRET")
        if (client_id is None) != (secret is None):
            raise NotConfigured("set both AUTH0_CHECK_CLIENT_ID and AUTH0_CHECK_CLIENT_SECRET, or neither")
        return (client_id, secret) if client_id is not None and secret is not None else None

    def max_token_lifetime(self, flag: int | None, *, option: str) -> int:
        """The longest acceptable API access-token lifetime: the flag (named ``option`` in an error), else the
        setting, else 600 s."""
        raw = str(flag) if flag is not None else (optional(self._environ, MAX_TOKEN_LIFETIME_SETTING) or "")
        if not raw:
            return DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            refused = InvalidOption if flag is not None else ConfigurationError
            source = option if flag is not None else MAX_TOKEN_LIFETIME_SETTING
            raise refused(f"{source} must be a whole number of seconds above 0, not {raw!r}")
        return int(raw)

    def auth0_base_url(self) -> str:
        """The tenant as a base URL (``https://example.us.auth0.com``), from AUTH0_DOMAIN."""
        domain = self._required("AUTH0_DOMAIN", optional(self._environ, "AUTH0_DOMAIN"), what="the Auth0 tenant")
        return auth0_base_url(domain)

    def api_url(self) -> str | None:
        """The deployed API's base URL (the stack's EndpointURL output), without a trailing slash."""
        url = optional(self._environ, "API_URL")
        return url.rstrip("/") if url is not None else None

    def spa_client_id(self) -> str | None:
        return optional(self._environ, "SPA_CLIENT_ID")

    def spa_purchase_url(self) -> str | None:
        return optional(self._environ, "SPA_PURCHASE_URL")

    def cors_policy(self) -> CorsPolicy:
        return load_cors_policy(self._environ)

    def spa_hosting(self) -> SpaHosting:
        """The stack's SpaUrl, SpaBucketName and SpaDistributionId outputs; one line naming any it lacks."""
        found = {name: optional(self._environ, name) for name in SPA_HOSTING}
        missing = [name for name, value in found.items() if value is None]
        if missing:
            outputs = ", ".join(SPA_HOSTING[name] for name in missing)
            if self.stack:
                raise NotConfigured(
                    f"stack {self.stack} has no {outputs} output: it was deployed without the SPA's hosting; deploy "
                    "it again from this checkout's `make package` output (docs/creator-guide.md, step 7)"
                )
            raise NotConfigured(f"{', '.join(missing)} (the stack's {outputs}) not set: pass --stack <your stack name>")
        return SpaHosting(
            url=str(found["SPA_URL"]).rstrip("/"),
            bucket=str(found["SPA_BUCKET"]),
            distribution_id=str(found["SPA_DISTRIBUTION_ID"]),
        )

    def child_environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        """The environment for a program ops runs (npm, Vite): this one, with ``extra`` on top."""
        return {**self._environ, **extra}

    def content_location(self) -> tuple[str, str]:
        """The content bucket and prefix (``content push``), checked as the service checks the prefix."""
        from chalicelib.catalogue import prefix_problem

        bucket = optional(self._environ, "CONTENT_BUCKET")
        if bucket is None:
            raise NotConfigured(
                "CONTENT_BUCKET (the content bucket) is not set: pass --stack <your stack name> (its "
                "ContentBucketName output), --stage local for the local S3 endpoint, or export CONTENT_BUCKET"
            )
        prefix = optional(self._environ, "CONTENT_PREFIX") or ""
        problem = prefix_problem(prefix)
        if problem:
            raise NotConfigured(f"CONTENT_PREFIX {prefix!r} {problem}")
        return bucket, prefix

    # --- ops tenant ---------------------------------------------------------------------------------

    def auth0_endpoint(self) -> Auth0Endpoint:
        return parse_auth0_domain(
            self._required("AUTH0_DOMAIN", optional(self._environ, "AUTH0_DOMAIN"), what="the Auth0 tenant")
        )

    def tenant_application(self) -> tuple[str, str]:
        """``(client id, secret)`` of the bootstrap application ``ops tenant`` runs as."""
        what = "the bootstrap application `ops tenant` runs as (see `ops tenant --help`)"
        client_id = self._required(
            "AUTH0_TENANT_CLIENT_ID", optional(self._environ, "AUTH0_TENANT_CLIENT_ID"), what=what
        )
        secret = self._required(
            "AUTH0_TENANT_CLIENT_SECRET", optional(self._environ, "AUTH0_TENANT_CLIENT_SECRET"), what=what
        )
        return client_id, secret

    def connection(self) -> str:
        return optional(self._environ, "AUTH0_CONNECTION") or DEFAULT_CONNECTION

    def catalogue_path(self) -> Path:
        return Path(resolve_courses_file(self._environ, app_dir=ROOT))

    def spa_urls(self) -> tuple[str, ...]:
        """Where the SPA is served: the stack's SPA_URL output, else the stage's CORS_ALLOW_ORIGIN (not ``*``)."""
        deployed = optional(self._environ, SPA_URL)
        if deployed is not None:
            return (deployed.rstrip("/"),)
        origins = tuple(origin for origin in load_cors_policy(self._environ).allowed_origins if origin != "*")
        if not origins:
            raise NotConfigured(
                "where is the SPA served? Pass --spa-url URL, deploy the stack (its SPA URL output), or set "
                "CORS_ALLOW_ORIGIN to the SPA's origin"
            )
        return origins

    def login_on(self) -> bool:
        """``POST /login`` is on for the stage: it names a login application (its id may be a placeholder)."""
        return optional(self._environ, "AUTH0_LOGIN_CLIENT_ID") is not None

    def onboarding_client_id(self) -> str | None:
        return optional(self._environ, "AUTH0_ONBOARDING_CLIENT_ID")

    def secret_id(self) -> str | None:
        return optional(self._environ, "AUTH0_SECRET_ID")

    def post_login_secret(self) -> str | None:
        """The stage's POST_LOGIN_SECRET (the local stage's; deployed, the service reads AUTH0_SECRET_ID's)."""
        return optional(self._environ, "POST_LOGIN_SECRET")

    def management_rate(self) -> tuple[float | None, int]:
        """The tenant's Management API rate and burst (AUTH0_RATE_LIMIT_PER_SECOND, _BURST), for pacing."""
        if optional(self._environ, "AUTH0_RATE_LIMIT_PER_SECOND") is None:
            return None, 1
        rate = number(self._environ, "AUTH0_RATE_LIMIT_PER_SECOND", default=2.0, low=0.1, high=1000.0)
        burst = number(self._environ, "AUTH0_RATE_LIMIT_BURST", default=max(1.0, rate), low=1, high=1000)
        return rate, int(burst)

    def require_auth0(self) -> None:
        """The Auth0 settings every Auth0 command needs, checked before any call, in one line."""
        self._required("AUTH0_DOMAIN", optional(self._environ, "AUTH0_DOMAIN"), what="the Auth0 tenant")
        self.require_credentials()
        self._catalogue_filled_in()

    def require_credentials(self) -> None:
        """The service's credentials: its secret in Secrets Manager (then AWS must be ready), or the environment's."""
        secret_id = optional(self._environ, "AUTH0_SECRET_ID")
        if secret_id is not None:
            aws.ready()  # the service's secret is read from Secrets Manager
        elif optional(self._environ, "AUTH0_CLIENT_ID") is None:
            self._required("AUTH0_SECRET_ID", None, what="the service's secret in Secrets Manager")

    def catalogue_file(self) -> str:
        """The catalogue's path as the operator edits it (COURSES_FILE, relative to the checkout)."""
        return optional(self._environ, "COURSES_FILE") or DEFAULT_COURSES_FILE

    def _catalogue_filled_in(self) -> None:
        from ops.packaging import catalogue_problems

        path = self.catalogue_path()
        problems = [line for line in catalogue_problems(path, shown_as=path.name) if "placeholder" in line]
        if problems:
            raise NotConfigured("; ".join(problems) + " (fill in the catalogue, docs/creator-guide.md step 3)")

    def _required(self, name: str, value: str | None, *, what: str) -> str:
        if value is None:
            raise NotConfigured(f"{name} ({what}) is not set{self._where_to_set(name)}")
        return value

    def _where_to_set(self, name: str) -> str:
        """Where ``name`` could come from that this command was not already given."""
        if self.stack:
            return f" by stack {self.stack} or your environment: export {name}"
        read = "pass --stack <your stack name> to read the deployed stack"
        if self.stage:
            return f" by stage {self.stage!r} (.chalice/config.json): {read}, or export {name}"
        return f": {read}, --stage local for the sandbox, or export {name}"
