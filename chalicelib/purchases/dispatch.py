"""Where an authenticated ping's event is fulfilled: the SQS queue in deployed stages, this process locally."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.catalogue import CourseCatalogue
from chalicelib.deadlines import current_deadline
from chalicelib.errors import ConfigurationError
from chalicelib.purchases.buyer_locks import BuyerLocks
from chalicelib.purchases.events import PingEvent
from chalicelib.purchases.fulfilment import Fulfilment, triage
from chalicelib.purchases.inline_gate import InlineGate
from chalicelib.purchases.outcomes import QUEUED, Outcome
from chalicelib.purchases.ports import EventQueue


class PingDispatch:
    """Sends each event that needs Auth0 where it is fulfilled, and answers what needs none on the spot.

    With a queue (deployed stages), the decisions that need no Auth0 are made here, without loading
    auth0-python, and the rest is queued: the worker fulfils it, one buyer at a time. Without one (the
    ``local`` stage, operator commands), the event is fulfilled in this process, holding its buyer's
    lock (Auth0 has no conditional write) and then its turn for Auth0 (one ping's calls at a time,
    earliest deadline first), all within the request's deadline.

    Parameters
    ----------
    catalogue, provision_test_purchases
        What ``triage`` decides with.
    queue
        The ping queue, or None to fulfil inline.
    fulfilment
        Builds the fulfilment (and with it the Auth0 client) on first inline use.
    in_lambda
        Running in AWS Lambda, where inline processing is refused: the buyer lock holds inside one
        process only, and Lambda runs many.
    """

    def __init__(
        self,
        *,
        catalogue: CourseCatalogue,
        provision_test_purchases: bool,
        queue: EventQueue | None,
        fulfilment: Callable[[], Fulfilment],
        in_lambda: bool,
    ) -> None:
        self._catalogue = catalogue
        self._provision_test_purchases = provision_test_purchases
        self._queue = queue
        self._fulfilment = fulfilment
        self._in_lambda = in_lambda
        self.locks = BuyerLocks()
        self.gate = InlineGate()

    def check_placement(self) -> None:
        """Refuse to work inline inside Lambda: a stage whose template lost PING_QUEUE_URL is caught by name."""
        if self._queue is None and self._in_lambda:
            raise ConfigurationError(
                "PING_QUEUE_URL is not set: in AWS Lambda pings must go through the SQS FIFO queue "
                "(inline processing is for the local stage only; see .chalice/deploy-resources.json)"
            )

    def dispatch(self, event: PingEvent) -> Outcome:
        """Fulfil ``event`` inline, or decide it and queue what needs Auth0."""
        if self._queue is None:
            self.check_placement()
            return self.fulfil_inline(event)
        decision = triage(event, catalogue=self._catalogue, provision_test_purchases=self._provision_test_purchases)
        if isinstance(decision, Outcome):
            return decision
        self._queue.enqueue(decision.event)
        return Outcome(QUEUED, decision.event.event_name, course=decision.course.slug)

    def fulfil_inline(self, event: PingEvent, *, verify_role: bool = False) -> Outcome:
        """Fulfil ``event`` in this process: its buyer's lock, then its turn for Auth0, within the deadline."""
        decision = triage(event, catalogue=self._catalogue, provision_test_purchases=self._provision_test_purchases)
        if isinstance(decision, Outcome):
            return decision
        deadline = current_deadline()
        with (
            self.locks.hold(decision.event.email, deadline=deadline),
            self.gate.turn(deadline, retry_count=decision.event.retry_count),
        ):
            return self._fulfilment().fulfil(decision, verify_role=verify_role)
