"""The Gumroad ping route's work: authenticate, parse, check the seller, fulfil, answer, log."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from chalice.app import Response

from chalicelib.deadlines import Deadline, upstream_scope
from chalicelib.errors import InternalError, ServiceError
from chalicelib.logs import describe_failure, mask_email
from chalicelib.purchases.events import PingEvent, SaleEvent, SubscriptionEvent
from chalicelib.purchases.gumroad import parse_ping
from chalicelib.purchases.outcomes import Outcome
from chalicelib.purchases.ping_auth import authenticate_ping, check_seller, presented_secrets
from chalicelib.purchases.ping_log import PingLogLine
from chalicelib.web.answers import json_answer, ping_error_answer


class PingServices(Protocol):
    """What the route needs, built lazily by ``wiring`` (so a 401 never builds an Auth0 client)."""

    def check_ready(self) -> None:
        """Raise ConfigurationError where no ping may be processed (inline, inside Lambda)."""

    def ping_secrets(self) -> Sequence[str]: ...

    def seller_id(self) -> str | None: ...

    def deadline_seconds(self) -> float: ...

    def dispatch(self, event: PingEvent) -> Outcome:
        """Fulfil the event, or queue it (``chalicelib.purchases.dispatch``)."""


def receive_ping(
    *,
    services: PingServices,
    authorization: str | None,
    token_params: Sequence[str],
    content_type: str | None,
    body: bytes,
) -> Response:
    """Answer one ping; whatever happens, it gets exactly one log line and never a 500."""
    started = time.monotonic()
    line = PingLogLine()
    response = ping_error_answer(InternalError())
    try:
        response = _receive(services, line, authorization, token_params, content_type, body)
    except ServiceError as error:
        line.error = error.code
        # ServiceError messages are written to be safe to show: no secrets, no addresses.
        line.detail = error.message
        response = ping_error_answer(error)
    except Exception as unexpected:
        # A bug must not lose the sale: 503 makes Gumroad deliver it again, and the line says where
        # it broke (the exception's type and frames, never its message, which may quote the body).
        line.error, line.detail = InternalError.code, describe_failure(unexpected)
    finally:
        line.status = response.status_code
        line.duration_ms = round((time.monotonic() - started) * 1000, 1)
        line.emit()
    return response


def _receive(
    services: PingServices,
    line: PingLogLine,
    authorization: str | None,
    token_params: Sequence[str],
    content_type: str | None,
    body: bytes,
) -> Response:
    services.check_ready()
    # Authentication comes first and needs no Auth0 client: a request without the secret
    # learns nothing and costs nothing.
    authenticate_ping(presented_secrets(authorization, token_params), services.ping_secrets())
    event = parse_ping(content_type, body)
    _describe(line, event)
    check_seller(event, services.seller_id())
    with upstream_scope(Deadline.after(services.deadline_seconds())) as stats:
        try:
            outcome = services.dispatch(event)
        finally:
            line.auth0_calls = stats.total
            line.auth0_throttled = stats.throttled
    line.outcome = outcome.status
    line.reason = outcome.reason
    line.course = outcome.course
    line.changes = list(outcome.changes) or None
    return json_answer(200, outcome.to_json())


def _describe(line: PingLogLine, event: PingEvent) -> None:
    line.resource = event.event_name
    line.retry_count = event.retry_count or None
    if isinstance(event, SaleEvent):
        line.sale_id = event.sale_id
        line.seller_id = event.seller_id
        line.subscription_id = event.subscription_id
        line.product_id = event.product.product_id
        line.buyer = mask_email(event.email)
    elif isinstance(event, SubscriptionEvent):
        line.subscription_id = event.subscription_id
        line.product_id = event.product.product_id
        line.buyer = mask_email(event.email)
