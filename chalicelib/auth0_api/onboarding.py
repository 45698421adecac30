"""Getting a buyer the service just created into their account: Auth0 e-mails a set-password link."""

from __future__ import annotations

import logging
from collections.abc import Callable

from auth0.authentication import Database
from auth0.authentication.exceptions import Auth0Error

from chalicelib.auth0_api.pacing import RetryPolicy
from chalicelib.config.purchase_settings import Auth0Endpoint
from chalicelib.deadlines import current_deadline, current_stats
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
            log_event(log, logging.WARNING, "onboarding_refused", status=exc.status_code, error=str(exc.error_code))
            return False
        except Exception as exc:  # best effort: requests' errors and anything else alike
            log_event(log, logging.WARNING, "onboarding_failed", error=type(exc).__name__)
            return False
        return True
