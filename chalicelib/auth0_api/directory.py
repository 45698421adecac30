"""Auth0Directory: buyers, their roles and purchase records, through auth0-python's Management API."""

from __future__ import annotations

import logging
import secrets
import string
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError
from auth0.management.core.parse_error import ParsingError
from auth0.management.core.request_options import RequestOptions

from chalicelib.auth0_api.management_token import ManagementToken
from chalicelib.auth0_api.pacing import RateLimitPacer, RetryPolicy, rate_limit_wait
from chalicelib.config.purchase_settings import Auth0Endpoint
from chalicelib.credentials import CredentialsSource
from chalicelib.deadlines import current_deadline, current_stats
from chalicelib.errors import BuyerAlreadyExists, UpstreamError, UpstreamRejected, UpstreamUnavailable
from chalicelib.logs import log_event
from chalicelib.purchases.ports import Buyer

log = logging.getLogger("gumroad_auth0.auth0")

T = TypeVar("T")

# What tells whether a user may hold purchases (chalicelib.purchases.holders), besides its records.
ACCOUNT_FIELDS = "user_id,email,email_verified,identities,app_metadata,created_at"


HttpTransport = httpx.BaseTransport
ManagementClient = Auth0


def build_directory(
    *,
    endpoint: Auth0Endpoint,
    credentials: CredentialsSource,
    connection: str,
    policy: RetryPolicy,
    pacer: RateLimitPacer,
    transport: HttpTransport | None = None,
) -> Auth0Directory:
    """The directory over the Management API client below, every answer fed to the pacer."""
    client, token = build_management_client(
        endpoint=endpoint, credentials=credentials, policy=policy, pacer=pacer, transport=transport
    )
    return Auth0Directory(client=client, token=token, connection=connection, policy=policy, pacer=pacer)


def build_management_client(
    *,
    endpoint: Auth0Endpoint,
    credentials: CredentialsSource,
    policy: RetryPolicy,
    pacer: RateLimitPacer | None = None,
    transport: HttpTransport | None = None,
) -> tuple[ManagementClient, ManagementToken]:
    """auth0-python's Management API client as the service calls Auth0: one shared httpx client, the SDK's
    retries off (its caller owns them), the M2M token from ``ManagementToken``, every answer fed to ``pacer``.

    ``transport`` replaces the network (tests replay recorded exchanges through it).
    """
    token = ManagementToken(endpoint=endpoint, credentials=credentials, policy=policy)
    http = httpx.Client(
        transport=transport,
        follow_redirects=False,
        timeout=policy.per_call_timeout,
        event_hooks={"response": [response_hook(pacer)]} if pacer is not None else None,
    )
    client = Auth0(base_url=endpoint.management_base_url, token=token, max_retries=0, httpx_client=http)
    return client, token


def response_hook(pacer: RateLimitPacer) -> Callable[[httpx.Response], None]:
    """An httpx response hook: counts every Management API request and feeds the pacer."""

    def observe(response: httpx.Response) -> None:
        current_stats().management += 1
        if response.status_code == 429:
            current_stats().throttled += 1
        pacer.observe(response.status_code, response.headers)

    return observe


class Auth0Directory:
    """Finds and creates buyers, assigns and removes roles, saves purchase records.

    Every call goes through one retry loop that owns the policy the SDK's defaults get
    wrong: no blind retries of 409s or POSTs that were refused, 429s honoured only while
    the deadline leaves room, and every failure surfaced as a typed ``UpstreamError``.
    """

    def __init__(
        self,
        *,
        client: Auth0,
        token: ManagementToken,
        connection: str,
        policy: RetryPolicy,
        pacer: RateLimitPacer,
        sleep: Callable[[float], None] | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self._token = token
        self._connection = connection
        self._policy = policy
        self._pacer = pacer
        self._sleep = sleep or time.sleep
        self._wall_clock = wall_clock or time.time

    def find_buyer(self, email: str) -> Buyer | None:
        """The user of this (already normalised) address in the service's database connection, if any.

        ``users-by-email`` answers users of every connection: a social login with the same address is not
        the database user the service manages (``find_users`` gives them all).
        """
        return next((user for user in self.find_users(email) if user.connection == self._connection), None)

    def find_users(self, email: str) -> list[Buyer]:
        """Every user of this (already normalised) address, of any connection, in one request.

        ``users-by-email`` is exact and case-sensitive: Auth0 lower-cases addresses only where it is the
        identity provider (database, passwordless); a Google account keeps Google's casing and is found
        only when that casing is lower-case (its own sign-in links it: ``purchases.sign_in``).
        """
        users = self._call(
            "find user by email",
            lambda options: self._client.users.list_users_by_email(
                email=email, fields=ACCOUNT_FIELDS, include_fields=True, request_options=options
            ),
        )
        return [buyer for buyer in (_buyer(user) for user in users) if buyer is not None]

    def get_user(self, user_id: str) -> Buyer | None:
        """The user, re-read; None when Auth0 answers 404 (deleted, or linked into another user since)."""

        def read(options: RequestOptions) -> Any:
            try:
                return self._client.users.get(
                    user_id, fields=ACCOUNT_FIELDS, include_fields=True, request_options=options
                )
            except ApiError as exc:
                if exc.status_code == 404:
                    return None
                raise

        return _buyer(self._call("read user", read))

    def link(self, primary_id: str, secondary: Buyer) -> None:
        """``POST /api/v2/users/{primary}/identities`` with the secondary's provider and id (``update:users``)."""
        self._call(
            "link user",
            lambda options: self._client.users.identities.link(
                primary_id, provider=secondary.provider, user_id=secondary.local_id, request_options=options
            ),
        )

    def create_buyer(
        self,
        *,
        email: str,
        name: str | None,
        app_metadata: Mapping[str, Any],
        send_verification_email: bool,
    ) -> Buyer:
        """Create a database user with a random password nobody knows (the buyer sets their own)."""
        user = self._call(
            "create user",
            lambda options: self._client.users.create(
                connection=self._connection,
                email=email,
                password=random_password(),
                email_verified=False,
                verify_email=send_verification_email,
                app_metadata=dict(app_metadata),
                **({"name": name} if name else {}),
                request_options=options,
            ),
            conflict_means_exists=True,
        )
        if not user.user_id:
            raise UpstreamUnavailable("Auth0 created a user but did not return its id")
        return Buyer(
            user_id=user.user_id,
            app_metadata=user.app_metadata or dict(app_metadata),
            connection=self._connection,
            email=email,
        )

    def assign_role(self, user_id: str, role_id: str) -> None:
        self._call(
            "assign role",
            lambda options: self._client.users.roles.assign(user_id, roles=[role_id], request_options=options),
            missing_means_rejected=f"role {role_id} does not exist in Auth0 (check the catalogue)",
        )

    def remove_role(self, user_id: str, role_id: str) -> None:
        self._call(
            "remove role",
            lambda options: self._client.users.roles.delete(user_id, roles=[role_id], request_options=options),
            missing_means_rejected=f"role {role_id} does not exist in Auth0 (check the catalogue)",
        )

    def has_role(self, user_id: str, role_id: str) -> bool:
        pager = self._call(
            "list user roles",
            lambda options: self._client.users.roles.list(
                user_id, per_page=100, page=0, include_totals=True, request_options=options
            ),
        )
        return any(role.id == role_id for role in pager.items or [])

    def save_record(self, user_id: str, key: str, document: Mapping[str, Any]) -> None:
        """Write one first-level ``app_metadata`` key; Auth0 merges first-level keys on PATCH."""
        self.save_records(user_id, {key: document})

    def save_records(self, user_id: str, documents: Mapping[str, Any]) -> None:
        """Write first-level ``app_metadata`` keys in one PATCH (Auth0 merges them; ``None`` removes one)."""
        body = {key: (dict(value) if isinstance(value, Mapping) else value) for key, value in documents.items()}
        self._call(
            "save purchase record",
            lambda options: self._client.users.update(user_id, app_metadata=body, request_options=options),
        )

    def _call(
        self,
        operation: str,
        request: Callable[[RequestOptions], T],
        *,
        conflict_means_exists: bool = False,
        missing_means_rejected: str | None = None,
    ) -> T:
        deadline = current_deadline()
        token_refreshed = False
        attempt = 0
        failures: list[str] = []  # what each failed attempt got, for the message when we give up
        while True:
            try:
                with self._pacer.turn(self._policy, deadline):
                    options: RequestOptions = {
                        "max_retries": 0,
                        "timeout": self._policy.call_timeout(deadline),
                    }
                    return request(options)
            except UpstreamError:
                raise
            except ApiError as exc:
                status = exc.status_code or 0
                if status == 409 and conflict_means_exists:
                    raise BuyerAlreadyExists from None
                if status == 401 and not token_refreshed:
                    token_refreshed = True
                    self._token.invalidate()
                    continue
                wait = self._transient_wait(status, exc.headers, attempt)
                if wait is None:
                    raise self._permanent(operation, status, exc.body, missing_means_rejected) from None
                failures.append(str(status))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                wait = self._policy.backoff(attempt)
                failures.append("timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable")
                log_event(log, logging.WARNING, "auth0_request_failed", operation=operation, error=type(exc).__name__)
            except ParsingError:
                raise UpstreamUnavailable(f"Auth0 answered {operation} with an unexpected body") from None
            attempt += 1
            if attempt >= self._policy.max_attempts or not self._policy.fits(wait, deadline):
                raise UpstreamUnavailable(gave_up(operation, failures, out_of_time=attempt < self._policy.max_attempts))
            self._sleep(wait)

    def _transient_wait(self, status: int, headers: Mapping[str, str] | None, attempt: int) -> float | None:
        if status == 429:
            asked = rate_limit_wait(headers, now=self._wall_clock())
            return asked if asked is not None else self._policy.backoff(attempt)
        if status >= 500 or status == 408:
            return self._policy.backoff(attempt)
        return None

    @staticmethod
    def _permanent(operation: str, status: int, body: Any, missing_means_rejected: str | None) -> UpstreamError:
        error_code = body.get("errorCode") if isinstance(body, dict) else None
        log_event(
            log, logging.ERROR, "auth0_request_refused", operation=operation, status=status, error_code=error_code
        )
        if status == 404 and missing_means_rejected:
            return UpstreamRejected(missing_means_rejected)
        if status == 404:
            # The user vanished between lookup and write (deleted by an admin): a retry looks again.
            return UpstreamUnavailable(f"Auth0 no longer finds the user for '{operation}'")
        if status == 403:
            return UpstreamRejected(f"Auth0 refused '{operation}': the M2M application lacks a scope")
        if status == 401:
            return UpstreamRejected(f"Auth0 rejected the Management API token for '{operation}'")
        return UpstreamRejected(f"Auth0 refused '{operation}' ({status})")


def gave_up(operation: str, failures: list[str], *, out_of_time: bool) -> str:
    """What Auth0 did, e.g. "Auth0 answered 500 to 'assign role' 3 times; retry later".

    ``failures`` holds one label per failed attempt: an HTTP status, ``timeout`` or ``unreachable``.
    """
    times = "once" if len(failures) == 1 else f"{len(failures)} times"
    kinds = set(failures)
    if kinds == {"timeout"}:
        what = f"timed out on '{operation}' {times}"
    elif kinds == {"unreachable"}:
        what = f"was unreachable for '{operation}' {times}"
    elif len(kinds) == 1:
        what = f"answered {failures[0]} to '{operation}' {times}"
    else:
        what = f"failed '{operation}' {times} ({', '.join(failures)})"
    tail = "; no time was left to try again" if out_of_time else ""
    return f"Auth0 {what}{tail}; retry later"


_PASSWORD_ALPHABETS = (
    string.ascii_lowercase,
    string.ascii_uppercase,
    string.digits,
    "!@#$%^&*-_+=?",
)


def random_password(length: int = 32) -> str:
    """A password that satisfies every Auth0 password policy and that nobody ever sees.

    Every character class is present, and no character repeats three times in a row
    (the "excellent" policy refuses that).
    """
    generator = secrets.SystemRandom()
    everything = "".join(_PASSWORD_ALPHABETS)
    while True:
        characters = [secrets.choice(alphabet) for alphabet in _PASSWORD_ALPHABETS]
        characters += [secrets.choice(everything) for _ in range(length - len(characters))]
        generator.shuffle(characters)
        password = "".join(characters)
        if not any(password[i] == password[i + 1] == password[i + 2] for i in range(length - 2)):
            return password


def _buyer(user: Any) -> Buyer | None:
    """A Management API user (``users-by-email``, ``GET /users/{id}``) as the purchase path reads it."""
    if user is None or not user.user_id:
        return None
    identities = list(user.identities or [])
    created = user.created_at
    return Buyer(
        user_id=user.user_id,
        app_metadata=user.app_metadata or {},
        connection=(identities[0].connection or "") if identities else "",
        email=user.email or "",
        email_verified=user.email_verified is True,
        created_at=created.astimezone(UTC).isoformat() if isinstance(created, datetime) else "",
        linked=tuple(f"{identity.provider}|{identity.user_id}" for identity in identities[1:]),
    )
