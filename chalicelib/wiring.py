"""Composition root: settings -> clients -> services, each built lazily once per warm container.

Nothing here runs at import time. Routes ask for what they need through the small
``get_*`` accessors; tests reset everything with ``clear_caches()``. auth0-python,
httpx and boto3 are imported only inside the accessors of the ping path, so a
container that only serves private routes never loads them.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy, current_deadline
from chalicelib.buyer_locks import BuyerLocks
from chalicelib.catalogue import CourseCatalog, load_catalog
from chalicelib.config import (
    Onboarding,
    PurchaseSettings,
    load_purchase_settings,
    resolve_courses_file,
)
from chalicelib.credentials import CredentialsSource, SecretsManagerCredentials, StaticCredentials
from chalicelib.errors import ConfigurationError, LoginDisabled
from chalicelib.inline_gate import InlineGate
from chalicelib.purchases.fulfilment import QUEUED, Fulfilment, Outcome, triage
from chalicelib.purchases.gumroad import PingEvent
from chalicelib.purchases.queue import DeadLetters, PingQueue, QueuedEvent, Visibility
from chalicelib.purchases.worker import PingWorker

if TYPE_CHECKING:
    from datetime import datetime

    import httpx
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

    from chalicelib.auth0_api.directory import Auth0Directory
    from chalicelib.auth0_api.password_login import PasswordLogin
    from chalicelib.purchases.gumroad_api import GumroadApi
    from chalicelib.purchases.reconcile import Report

APP_DIR = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Tests replace the Management API's network with a recorded exchange (an httpx transport).
_auth0_transport: httpx.BaseTransport | None = None
# Inline processing: one event per buyer at a time in this process (see chalicelib/buyer_locks.py),
# and one ping's Auth0 work at a time, earliest deadline first (see chalicelib/inline_gate.py).
_buyer_locks = BuyerLocks()
_inline_gate = InlineGate()
# functools.cache may build a value twice when threads ask at once: concurrent inline pings must
# share one directory (one pacer, one token), so the first build is serialised.
_build_lock = threading.Lock()
# Set by the Lambda runtime in every function; never by `chalice local`, the test client or ops.
LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"


@functools.cache
def get_catalog() -> CourseCatalog:
    return load_catalog(resolve_courses_file(os.environ, app_dir=APP_DIR))


@functools.cache
def get_purchase_settings() -> PurchaseSettings:
    return load_purchase_settings(os.environ, app_dir=APP_DIR)


@functools.cache
def get_credentials() -> CredentialsSource:
    settings = get_purchase_settings()
    if settings.secret_id is None:
        return StaticCredentials(settings.environment_credentials)
    return SecretsManagerCredentials(
        client_factory=_secrets_manager_client,
        secret_id=settings.secret_id,
        ttl_seconds=settings.secret_ttl_seconds,
    )


@functools.cache
def get_retry_policy() -> RetryPolicy:
    return RetryPolicy()


@functools.cache
def get_directory() -> Auth0Directory:
    import httpx
    from auth0.management import Auth0

    from chalicelib.auth0_api.directory import Auth0Directory, response_hook
    from chalicelib.auth0_api.management_token import ManagementToken

    settings = get_purchase_settings()
    policy = get_retry_policy()
    pacer = RateLimitPacer(rate=settings.management_rate, burst=settings.management_burst)
    token = ManagementToken(endpoint=settings.auth0, credentials=get_credentials(), policy=policy)
    http = httpx.Client(
        transport=_auth0_transport,
        follow_redirects=False,
        timeout=policy.per_call_timeout,
        event_hooks={"response": [response_hook(pacer)]},
    )
    client = Auth0(base_url=settings.auth0.management_base_url, token=token, max_retries=0, httpx_client=http)
    return Auth0Directory(client=client, token=token, connection=settings.connection, policy=policy, pacer=pacer)


@functools.cache
def get_fulfilment() -> Fulfilment:
    from chalicelib.auth0_api.directory import BuyerAlreadyExists
    from chalicelib.auth0_api.onboarding import PasswordResetOnboarding

    settings = get_purchase_settings()
    credentials = get_credentials()
    onboarding = None
    if settings.onboarding is Onboarding.PASSWORD_RESET_EMAIL:
        onboarding_client = settings.onboarding_client_id
        onboarding = PasswordResetOnboarding(
            endpoint=settings.auth0,
            client_id=lambda: onboarding_client or credentials.get().client_id,
            connection=settings.connection,
            policy=get_retry_policy(),
        )
    return Fulfilment(
        catalog=get_catalog(),
        directory=get_directory(),
        onboarding=onboarding,
        send_verification_email=settings.onboarding is Onboarding.VERIFICATION_EMAIL,
        provision_test_purchases=settings.provision_test_purchases,
        buyer_exists_error=BuyerAlreadyExists,
    )


@functools.cache
def get_login() -> PasswordLogin:
    """``POST /login``, enabled by AUTH0_LOGIN_CLIENT_ID (its secret: AUTH0_LOGIN_CLIENT_SECRET or the
    secret's ``login_client_secret``)."""
    from chalicelib.auth0_api.password_login import PasswordLogin

    client_id = os.environ.get("AUTH0_LOGIN_CLIENT_ID", "").strip()
    if not client_id:
        raise LoginDisabled("sign-in with a password is not enabled on this deployment")
    audience = os.environ.get("AUTH0_AUDIENCE", "").strip()
    if not audience:
        raise ConfigurationError("AUTH0_AUDIENCE is not set (POST /login issues tokens for it)")
    settings = get_purchase_settings()
    explicit_secret = os.environ.get("AUTH0_LOGIN_CLIENT_SECRET", "").strip() or None
    credentials = get_credentials()

    def client_secret() -> str:
        # Read on every sign-in, so a secret rotated in Secrets Manager is picked up after its TTL.
        secret = explicit_secret or credentials.get().login_client_secret
        if not secret:
            raise ConfigurationError(
                "AUTH0_LOGIN_CLIENT_ID is set but the login application has no secret: set "
                "AUTH0_LOGIN_CLIENT_SECRET or login_client_secret in the secret AUTH0_SECRET_ID names"
            )
        return secret

    client_secret()  # a missing secret fails loudly at first use, not as Auth0's "access_denied"
    return PasswordLogin(
        endpoint=settings.auth0,
        client_id=client_id,
        client_secret=client_secret,
        realm=settings.connection,
        audience=audience,
    )


@functools.cache
def get_ping_queue() -> PingQueue | None:
    """The FIFO queue pings go to in deployed stages; None processes them inline (local stage, tests)."""
    settings = get_purchase_settings()
    if settings.queue_url is None:
        return None
    return PingQueue(client_factory=_sqs_client, queue_url=settings.queue_url)


@functools.cache
def get_worker() -> PingWorker:
    settings = get_purchase_settings()
    if settings.queue_url is None or settings.dead_letter_queue_url is None:
        raise ConfigurationError("the worker needs PING_QUEUE_URL and PING_DEAD_LETTER_QUEUE_URL")

    def fulfil(event: QueuedEvent, *, verify_role: bool) -> Outcome:
        return get_fulfilment().handle(event, verify_role=verify_role)

    return PingWorker(
        fulfil=fulfil,
        dead_letters=DeadLetters(client_factory=_sqs_client, queue_url=settings.dead_letter_queue_url),
        visibility=Visibility(client_factory=_sqs_client, queue_url=settings.queue_url),
        deadline_seconds=settings.worker_deadline_seconds,
    )


def buyer_locks() -> BuyerLocks:
    return _buyer_locks


def fulfil_inline(event: PingEvent, *, verify_role: bool = False) -> Outcome:
    """Fulfil ``event`` in this process: its buyer's lock, then its turn for Auth0, within the deadline."""
    fulfilment = _built(get_fulfilment)
    decision = fulfilment.triage(event)
    if isinstance(decision, Outcome):
        return decision
    deadline = current_deadline()
    with (
        _buyer_locks.hold(decision.event.email, deadline=deadline),
        _inline_gate.turn(deadline, retry_count=decision.event.retry_count),
    ):
        return fulfilment.fulfil(decision, verify_role=verify_role)


def refuse_inline_in_lambda() -> None:
    """A deployed function without a queue refuses pings instead of processing them inline.

    The buyer lock holds inside one process only; Lambda runs many, and Auth0 has no conditional
    write. "Deployed" is known from the Lambda runtime's own variable, so a stage whose template
    lost PING_QUEUE_URL is caught whatever its name.
    """
    if get_ping_queue() is None and os.environ.get(LAMBDA_MARKER):
        raise ConfigurationError(
            "PING_QUEUE_URL is not set: in AWS Lambda pings must go through the SQS FIFO queue "
            "(inline processing is for the local stage only; see .chalice/deploy-resources.json)"
        )


class LivePingServices:
    """The ping route's services, each built on first use."""

    def ping_secrets(self) -> Sequence[str]:
        refuse_inline_in_lambda()  # first thing the route asks: no ping is processed inline in Lambda
        return get_credentials().get().gumroad_ping_secrets

    def seller_id(self) -> str | None:
        return get_purchase_settings().seller_id

    def deadline_seconds(self) -> float:
        return get_purchase_settings().ping_deadline_seconds

    def fulfil(self, event: PingEvent) -> Outcome:
        queue = get_ping_queue()
        if queue is None:
            refuse_inline_in_lambda()
            return fulfil_inline(event)
        # Deployed: decide what needs no Auth0 right here (without loading auth0-python), queue the rest.
        settings = get_purchase_settings()
        decision = triage(event, catalog=get_catalog(), provision_test_purchases=settings.provision_test_purchases)
        if isinstance(decision, Outcome):
            return decision
        queue.enqueue(decision.event)
        return Outcome(QUEUED, decision.event.event_name, course=decision.course.slug)


def _built(accessor: Callable[[], T]) -> T:
    with _build_lock:
        return accessor()


def get_gumroad_api() -> GumroadApi:
    """Gumroad's API v2 with the seller's OAuth token: the secret's ``gumroad_access_token``, else
    GUMROAD_ACCESS_TOKEN (local runs and ``ops``)."""
    from chalicelib.purchases.gumroad_api import TOKEN_VARIABLE, GumroadApi

    token = get_credentials().get().gumroad_access_token or os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ConfigurationError(
            f"no Gumroad access token: add gumroad_access_token to the secret AUTH0_SECRET_ID names (or set "
            f"{TOKEN_VARIABLE}): an OAuth token of your Gumroad application with the view_sales scope"
        )
    return GumroadApi(access_token=token)


def run_reconciliation(now: datetime | None = None) -> Report:
    """One scheduled run: the Sales API since the watermark, through the ping queue (purchases/reconcile.py)."""
    from datetime import UTC, datetime

    from chalicelib.config import load_reconcile_settings
    from chalicelib.purchases.reconcile import ParameterWatermark, Reconciler, ScheduleSettings, run_scheduled

    settings = get_purchase_settings()
    schedule = load_reconcile_settings(os.environ)
    queue = get_ping_queue()
    if queue is None or schedule.watermark_parameter is None:
        raise ConfigurationError("the reconciliation needs PING_QUEUE_URL and RECONCILE_WATERMARK_PARAMETER")
    api = get_gumroad_api()
    reconciler = Reconciler(
        sales=api,
        catalog=get_catalog(),
        sink=queue,
        seller_id=settings.seller_id,
        provision_test_purchases=settings.provision_test_purchases,
    )
    return run_scheduled(
        reconciler=reconciler,
        subscriptions=api,
        watermark=ParameterWatermark(client_factory=_ssm_client, name=schedule.watermark_parameter),
        settings=ScheduleSettings(
            ping_url=schedule.ping_url,
            lookback_days=schedule.lookback_days,
            overlap_minutes=schedule.overlap_minutes,
        ),
        now=now or datetime.now(UTC),
    )


def _ssm_client() -> SSMClient:
    import boto3

    return boto3.client("ssm")


def _sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs")


def _secrets_manager_client() -> SecretsManagerClient:
    import boto3

    return boto3.client("secretsmanager")


def auth0_transport() -> httpx.BaseTransport | None:
    """The transport the Management API goes through (None: the network), for tools that build their own client."""
    return _auth0_transport


def use_auth0_transport(transport: httpx.BaseTransport | None) -> None:
    """Route the Management API through ``transport`` (tests only); resets cached clients."""
    global _auth0_transport
    _auth0_transport = transport
    clear_caches()


def clear_caches() -> None:
    """Forget every cached setting, client and service (tests change the environment)."""
    for accessor in (
        get_catalog,
        get_purchase_settings,
        get_credentials,
        get_retry_policy,
        get_directory,
        get_fulfilment,
        get_login,
        get_ping_queue,
        get_worker,
    ):
        accessor.cache_clear()
