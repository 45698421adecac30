"""The e-mails the tenant "sent" (verification, password reset) and the one-time tickets in them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.errors import ManagementError
from sandbox.tenant.users import UserRecord, timestamp

TICKET_LIFETIME_SECONDS = 432_000  # Auth0's default for password-change tickets: 5 days


class Outbox:
    """Kept in the state file by the tenant, whose lock guards every call."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.messages: list[dict[str, Any]] = []
        self.tickets: dict[str, dict[str, Any]] = {}

    def restore(self, messages: list[dict[str, Any]], tickets: dict[str, dict[str, Any]]) -> None:
        self.messages, self.tickets = list(messages), dict(tickets)

    def clear(self) -> None:
        self.messages.clear()
        self.tickets.clear()

    def send(self, *, kind: str, user: UserRecord, base_url: str, client_id: str | None = None) -> dict[str, Any]:
        """Put a message in the outbox; a ``password_reset`` carries a new ticket and its page's URL."""
        now = self._clock()
        message: dict[str, Any] = {
            "id": "msg_" + secrets.token_hex(8),
            "kind": kind,
            "to": user.email,
            "user_id": user.user_id,
            "created_at": timestamp(now),
        }
        if client_id is not None:
            message["client_id"] = client_id
        if kind == "password_reset":
            ticket = secrets.token_urlsafe(24)
            self.tickets[ticket] = {"user_id": user.user_id, "expires_at": now + TICKET_LIFETIME_SECONDS}
            message["ticket"] = ticket
            # Auth0's ticket page; the JSON view stays at /sandbox/set-password?ticket= for scripts.
            message["ticket_url"] = f"{base_url}/lo/reset?ticket={ticket}"
            message["expires_at"] = timestamp(now + TICKET_LIFETIME_SECONDS)
        self.messages.append(message)
        return message

    def holder(self, ticket: str, users: Mapping[str, UserRecord]) -> tuple[UserRecord, str]:
        """Who a ticket is for and until when, without using it up."""
        entry = self.tickets.get(ticket)
        if entry is None or float(entry["expires_at"]) < self._clock() or entry["user_id"] not in users:
            raise _invalid_ticket()
        return users[entry["user_id"]], timestamp(float(entry["expires_at"]))

    def redeem(self, ticket: str, users: Mapping[str, UserRecord]) -> UserRecord:
        """Use a ticket up: whoever it is for, once."""
        entry = self.tickets.pop(ticket, None)
        if entry is None or float(entry["expires_at"]) < self._clock() or entry["user_id"] not in users:
            raise _invalid_ticket()
        return users[entry["user_id"]]


def _invalid_ticket() -> ManagementError:
    return ManagementError(400, "The ticket is invalid, expired or already used.", "invalid_ticket")
