"""The one composition root: settings -> clients -> services, each built lazily, once per warm container.

It builds and never decides. Nothing runs at import time, and this module imports only what a private request
needs (its settings and the catalogue): each accessor imports what it builds, so a container that serves only
private routes never loads the purchase path, its settings and credentials, auth0-python, httpx or boto3.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar, cast

from chalicelib.catalogue import CourseCatalogue, load_catalogue
from chalicelib.config.access_settings import AccessSettings, CorsPolicy, load_access_settings, load_cors_policy
from chalicelib.config.environment import resolve_courses_file
from chalicelib.errors import ConfigurationError, LoginDisabled

if TYPE_CHECKING:
    from chalicelib.access.lesson_urls import LessonUrls
    from chalicelib.access.verifier import AccessTokenVerifier
    from chalicelib.auth0_api.directory import Auth0Directory, HttpTransport, ManagementClient
    from chalicelib.auth0_api.onboarding import PasswordResetOnboarding
    from chalicelib.auth0_api.pacing import RetryPolicy
    from chalicelib.auth0_api.password_login import PasswordLogin
    from chalicelib.aws.sqs import PingQueue
    from chalicelib.config.login_settings import LoginSettings
    from chalicelib.config.purchase_settings import PurchaseSettings
    from chalicelib.credentials import CredentialsSource
    from chalicelib.purchases.dispatch import PingDispatch
    from chalicelib.purchases.events import PingEvent
    from chalicelib.purchases.fulfilment import Fulfilment
    from chalicelib.purchases.holders import TrustPolicy
    from chalicelib.purchases.outcomes import Outcome
    from chalicelib.purchases.queue import QueuedEvent
    from chalicelib.purchases.reconcile import Report
    from chalicelib.purchases.sign_in import SignInAnswer, SignIns
    from chalicelib.purchases.worker import PingWorker

APP_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
T = TypeVar("T")

_auth0_transport: HttpTransport | None = None
# Concurrent inline pings must share one directory (one pacer, one token) and one dispatch (one set of
# buyer locks), so builds take turns; a build that raises is not kept, and the next call tries again.
_build_lock = threading.RLock()
_built: dict[Callable[[], object], object] = {}


def _built_once(build: Callable[[], T]) -> Callable[[], T]:
    @functools.wraps(build)
    def accessor() -> T:
        with _build_lock:
            if build not in _built:
                _built[build] = build()
            return cast(T, _built[build])

    return accessor


# --- settings and what both halves share ---------------------------------------------------------


@_built_once
def get_catalogue() -> CourseCatalogue:
    return load_catalogue(resolve_courses_file(os.environ, app_dir=APP_DIR))


@_built_once
def get_purchase_settings() -> PurchaseSettings:
    from chalicelib.config.purchase_settings import load_purchase_settings

    return load_purchase_settings(os.environ, app_dir=APP_DIR)


@_built_once
def get_access_settings() -> AccessSettings:
    return load_access_settings(os.environ)


@_built_once
def get_cors_policy() -> CorsPolicy:
    return load_cors_policy(os.environ)


@_built_once
def get_credentials() -> CredentialsSource:
    from chalicelib.credentials import StaticCredentials

    settings = get_purchase_settings()
    if settings.secret_id is None:
        return StaticCredentials(settings.environment_credentials)
    from chalicelib.aws.secrets import SecretsManagerCredentials, secrets_manager_client

    return SecretsManagerCredentials(
        client_factory=secrets_manager_client,
        secret_id=settings.secret_id,
        ttl_seconds=settings.secret_ttl_seconds,
    )


# --- Access -> API --------------------------------------------------------------------------------


@_built_once
def get_verifier() -> AccessTokenVerifier:
    """The verifier and its JWKS cache (PyJWT is loaded on first use: only once a token arrives)."""
    from chalicelib.access.jwks import JwksCache
    from chalicelib.access.verifier import AccessTokenVerifier

    settings = get_access_settings()
    return AccessTokenVerifier(
        issuer=settings.issuer,
        audience=settings.audience,
        keys=JwksCache(settings.jwks_url, algorithms=settings.algorithms),
        algorithms=settings.algorithms,
        leeway_seconds=settings.leeway_seconds,
    )


@_built_once
def get_lesson_urls() -> LessonUrls:  # read, and boto3 loaded, once a course with lessons opens; never by GET /courses
    from chalicelib.access.lesson_urls import lesson_urls_from
    from chalicelib.aws.presigned_urls import PresignedUrls

    return lesson_urls_from(os.environ, signer=PresignedUrls)


# --- Purchase -> access ---------------------------------------------------------------------------


@_built_once
def get_retry_policy() -> RetryPolicy:
    from chalicelib.auth0_api.pacing import RetryPolicy

    return RetryPolicy()


@_built_once
def get_directory() -> Auth0Directory:
    from chalicelib.auth0_api.directory import build_directory
    from chalicelib.auth0_api.pacing import RateLimitPacer

    settings = get_purchase_settings()
    return build_directory(
        endpoint=settings.auth0,
        credentials=get_credentials(),
        connection=settings.connection,
        policy=get_retry_policy(),
        pacer=RateLimitPacer(rate=settings.management_rate, burst=settings.management_burst),
        transport=_auth0_transport,
    )


def management_client(credentials: CredentialsSource | None = None) -> ManagementClient:
    """A Management API client built as the directory's (same builder, transport and retry policy), for a tool that
    reads what the directory does not (``ops check``); ``credentials`` default to the service's. A new one each call."""
    from chalicelib.auth0_api.directory import build_management_client

    settings = get_purchase_settings()
    client, _ = build_management_client(
        endpoint=settings.auth0,
        credentials=credentials or get_credentials(),
        policy=get_retry_policy(),
        transport=_auth0_transport,
    )
    return client


@_built_once
def get_trust_policy() -> TrustPolicy:
    """Who may hold purchases: the service's users, and verified addresses of the trusted connections."""
    from chalicelib.purchases.holders import TrustPolicy

    settings = get_purchase_settings()
    return TrustPolicy(database_connection=settings.connection, trusted_connections=settings.trusted_connections)


@_built_once
def get_password_reset_onboarding() -> PasswordResetOnboarding:
    from chalicelib.auth0_api.onboarding import build_onboarding

    return build_onboarding(get_purchase_settings(), get_credentials(), get_retry_policy())


@_built_once
def get_fulfilment() -> Fulfilment:
    from chalicelib.config.purchase_settings import OnboardingMode
    from chalicelib.purchases.fulfilment import Fulfilment

    settings = get_purchase_settings()
    by_reset = settings.onboarding is OnboardingMode.PASSWORD_RESET_EMAIL
    return Fulfilment(
        catalogue=get_catalogue(),
        directory=get_directory(),
        onboarding=get_password_reset_onboarding() if by_reset else None,
        send_verification_email=settings.onboarding is OnboardingMode.VERIFICATION_EMAIL,
        provision_test_purchases=settings.provision_test_purchases,
        trust=get_trust_policy(),
    )


@_built_once
def get_ping_queue() -> PingQueue | None:
    """The FIFO queue pings go to in deployed stages; None processes them inline (local stage, tests)."""
    settings = get_purchase_settings()
    if settings.queue_url is None:
        return None
    from chalicelib.aws.sqs import PingQueue, sqs_client

    return PingQueue(client_factory=sqs_client, queue_url=settings.queue_url)


@_built_once
def get_dispatch() -> PingDispatch:
    from chalicelib.purchases.dispatch import PingDispatch

    settings = get_purchase_settings()
    return PingDispatch(
        catalogue=get_catalogue(),
        provision_test_purchases=settings.provision_test_purchases,
        queue=get_ping_queue(),
        fulfilment=get_fulfilment,
        in_lambda=settings.in_lambda,
    )


class LivePingServices:
    """What the ping route asks for, each built on first use (so a 401 never builds an Auth0 client)."""

    def check_ready(self) -> None:
        get_dispatch().check_placement()

    def ping_secrets(self) -> Sequence[str]:
        return get_credentials().get().gumroad_ping_secrets

    def seller_id(self) -> str | None:
        return get_purchase_settings().seller_id

    def deadline_seconds(self) -> float:
        return get_purchase_settings().ping_deadline_seconds

    def dispatch(self, event: PingEvent) -> Outcome:
        return get_dispatch().dispatch(event)


@_built_once
def get_sign_ins() -> SignIns:
    from chalicelib.purchases.sign_in import SignIns

    dispatch = get_dispatch()
    return SignIns(
        catalogue=get_catalogue(),
        directory=get_directory(),
        trust=get_trust_policy(),
        # Inline (the local stage), a sign-in and a ping of one address never interleave in this process.
        locks=dispatch.locks if get_ping_queue() is None else None,
    )


class LiveSignInServices:
    """What ``POST /auth0/post-login`` asks for, each built on first use (a 401 builds no Auth0 client)."""

    def post_login_secret(self) -> str:
        secret = get_credentials().get().post_login_secret
        if not secret:
            raise ConfigurationError(
                "no post-login secret: set post_login_secret in the secret AUTH0_SECRET_ID names "
                "(POST_LOGIN_SECRET when AUTH0_SECRET_ID is unset), the Action's POST_LOGIN_SECRET"
            )
        return secret

    def deadline_seconds(self) -> float:
        return get_purchase_settings().signin_deadline_seconds

    def sign_in(self, user_id: str) -> SignInAnswer:
        return get_sign_ins().sign_in(user_id)


@_built_once
def get_worker() -> PingWorker:
    from chalicelib.aws.sqs import DeadLetters, Visibility, sqs_client
    from chalicelib.purchases.worker import PingWorker

    settings = get_purchase_settings()
    if settings.queue_url is None or settings.dead_letter_queue_url is None:
        raise ConfigurationError("the worker needs PING_QUEUE_URL and PING_DEAD_LETTER_QUEUE_URL")

    def fulfil(event: QueuedEvent, *, verify_role: bool) -> Outcome:
        return get_fulfilment().handle(event, verify_role=verify_role)

    return PingWorker(
        fulfil=fulfil,
        dead_letters=DeadLetters(client_factory=sqs_client, queue_url=settings.dead_letter_queue_url),
        visibility=Visibility(client_factory=sqs_client, queue_url=settings.queue_url),
        deadline_seconds=settings.worker_deadline_seconds,
    )


@_built_once
def get_login_settings() -> LoginSettings:
    from chalicelib.config.login_settings import load_login_settings

    settings = load_login_settings(os.environ)
    if settings is None:
        raise LoginDisabled("sign-in with a password is not enabled on this deployment")
    return settings


@_built_once
def get_login() -> PasswordLogin:
    """``POST /login``: its secret is AUTH0_LOGIN_CLIENT_SECRET or the secret's ``login_client_secret``."""
    from chalicelib.auth0_api.password_login import PasswordLogin

    login = get_login_settings()
    settings = get_purchase_settings()
    credentials = get_credentials()

    def client_secret() -> str:
        # Read on every sign-in, so a secret rotated in Secrets Manager is picked up after its TTL.
        secret = login.explicit_client_secret or credentials.get().login_client_secret
        if not secret:
            raise ConfigurationError(
                "AUTH0_LOGIN_CLIENT_ID is set but the login application has no secret: set "
                "AUTH0_LOGIN_CLIENT_SECRET or login_client_secret in the secret AUTH0_SECRET_ID names"
            )
        return secret

    client_secret()  # a missing secret fails loudly at first use, not as Auth0's "access_denied"
    return PasswordLogin(
        endpoint=settings.auth0,
        client_id=login.client_id,
        client_secret=client_secret,
        realm=settings.connection,
        audience=login.audience,
    )


# --- the scheduled reconciliation -----------------------------------------------------------------


def run_reconciliation(now: datetime | None = None) -> Report | None:
    """One scheduled run (``purchases.reconcile.run_scheduled``) against Gumroad's API v2 with the seller's token
    (the secret's, else GUMROAD_ACCESS_TOKEN); None when it is off: no Gumroad token, one warning."""
    from datetime import UTC

    from chalicelib.aws.parameters import ParameterWatermark, ssm_client
    from chalicelib.config.reconcile_settings import find_gumroad_access_token, load_reconcile_settings
    from chalicelib.gumroad_api.client import GumroadApi
    from chalicelib.purchases.reconcile import Reconciler, report_off, run_scheduled

    settings = get_purchase_settings()
    schedule = load_reconcile_settings(os.environ)
    queue = get_ping_queue()
    if queue is None or schedule.watermark_parameter is None:
        raise ConfigurationError("the reconciliation needs PING_QUEUE_URL and RECONCILE_WATERMARK_PARAMETER")
    token = find_gumroad_access_token(os.environ, from_secret=get_credentials().get().gumroad_access_token)
    if token is None:
        report_off()
        return None
    api = GumroadApi(access_token=token)
    return run_scheduled(
        reconciler=Reconciler(
            sales=api,
            catalogue=get_catalogue(),
            sink=queue,
            seller_id=settings.seller_id,
            provision_test_purchases=settings.provision_test_purchases,
        ),
        subscriptions=api,
        watermark=ParameterWatermark(client_factory=ssm_client, name=schedule.watermark_parameter),
        settings=schedule,
        now=now or datetime.now(UTC),
    )


# --- seams for tests and tools ---------------------------------------------------------------------


def use_auth0_transport(transport: HttpTransport | None) -> None:
    """Route the Management API through ``transport``, a recorded exchange (tests only); resets cached clients."""
    global _auth0_transport
    _auth0_transport = transport
    clear_caches()


def clear_caches() -> None:
    """Forget every cached setting, client and service: the one reset (tests change the environment)."""
    with _build_lock:
        _built.clear()
