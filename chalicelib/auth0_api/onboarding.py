"""Getting a buyer the service just created into their account: Auth0 e-mails a set-password link."""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
from auth0.authentication import Database
from auth0.authentication.exceptions import Auth0Error

from chalicelib.auth0_api.pacing import RetryPolicy
from chalicelib.config.purchase_settings import Auth0Endpoint, PurchaseSettings
from chalicelib.credentials import CredentialsSource
from chalicelib.deadlines import current_deadline, current_stats
from chalicelib.errors import UpstreamError, UpstreamRejected, UpstreamUnavailable
from chalicelib.logs import log_event

log = logging.getLogger("gumroad_auth0.onboarding")


class PasswordResetOnboarding:
    """Asks Auth0 to e-mail the buyer a password-change link (``/dbconnections/change_password``).

    The buyer's random password is never known to anyone, so this link is how they get in
    without writing to support. It is best effort: a failure is reported in the ping's log
    line and never undoes the purchase (the buyer can still use "Forgot password").
    """

    def __init__(
        self,
        *,
        endpoint: Auth0Endpoint,
        client_id: Callable[[], str],
        connection: str,
        policy: RetryPolicy,
    ) -> None:
        self._endpoint = endpoint
        self._client_id = client_id
        self._connection = connection
        self._policy = policy

    def welcome(self, email: str) -> bool:
        """Send the e-mail; True when Auth0 accepted the request."""
        try:
            self.send(email)
        except UpstreamError as exc:
            cause = exc.__cause__
            if isinstance(cause, Auth0Error):
                log_event(
                    log, logging.WARNING, "onboarding_refused", status=cause.status_code, error=str(cause.error_code)
                )
            else:
                log_event(log, logging.WARNING, "onboarding_failed", error=type(cause).__name__)
            return False
        except Exception as exc:  # best effort: anything else alike
            log_event(log, logging.WARNING, "onboarding_failed", error=type(exc).__name__)
            return False
        return True

    def send(self, email: str) -> None:
        """Ask Auth0 to e-mail ``email`` the set-password link, or raise: ``UpstreamRejected`` when Auth0 refuses
        (4xx other than 429), ``UpstreamUnavailable`` when it cannot answer. An operator's resend, not best effort."""
        try:
            timeout = self._policy.call_timeout(current_deadline())
            database = Database(
                self._endpoint.netloc,
                self._client_id(),
                protocol=self._endpoint.scheme,
                timeout=timeout,
                telemetry=False,
            )
            current_stats().authentication += 1
            database.change_password(email=email, connection=self._connection)
        except Auth0Error as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 0
            what = f"Auth0 answered {status or 'an error'} ({exc.error_code}) to the password-change request"
            if 400 <= status < 500 and status != 429:
                raise UpstreamRejected(what) from exc
            raise UpstreamUnavailable(what + "; try again later") from exc
        except requests.RequestException as exc:
            raise UpstreamUnavailable(f"Auth0 could not be reached ({type(exc).__name__}); try again later") from exc


def build_onboarding(
    settings: PurchaseSettings, credentials: CredentialsSource, policy: RetryPolicy
) -> PasswordResetOnboarding:
    """The set-password e-mail for the stage's connection, as AUTH0_ONBOARDING_CLIENT_ID, else the M2M application."""
    onboarding_client = settings.onboarding_client_id
    return PasswordResetOnboarding(
        endpoint=settings.auth0,
        client_id=lambda: onboarding_client or credentials.get().client_id,
        connection=settings.connection,
        policy=policy,
    )
