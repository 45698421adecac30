"""The e-mails the tenant "sent" (verification, password reset, passwordless codes) and the tickets in them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from sandbox.errors import ManagementError
from sandbox.tenant.users import timestamp

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

    def send(self, *, kind: str, to: str, user_id: str, base_url: str, client_id: str | None = None) -> dict[str, Any]:
        """Put a message in the outbox; a ``password_reset`` carries a new ticket and its page's URL."""
        now = self._clock()
        message: dict[str, Any] = {
            "id": "msg_" + secrets.token_hex(8),
            "kind": kind,
            "to": to,
            "user_id": user_id,
            "created_at": timestamp(now),
        }
        if client_id is not None:
            message["client_id"] = client_id
        if kind == "password_reset":
            ticket = secrets.token_urlsafe(24)
            self.tickets[ticket] = {"user_id": user_id, "expires_at": now + TICKET_LIFETIME_SECONDS}
            message["ticket"] = ticket
            # Auth0's ticket page; the JSON view stays at /sandbox/set-password?ticket= for scripts.
            message["ticket_url"] = f"{base_url}/lo/reset?ticket={ticket}"
            message["expires_at"] = timestamp(now + TICKET_LIFETIME_SECONDS)
        self.messages.append(message)
        return message

    def send_code(self, *, to: str, code: str, expires_at: float) -> dict[str, Any]:
        """A passwordless e-mail: the code to type on the sign-in page."""
        message: dict[str, Any] = {
            "id": "msg_" + secrets.token_hex(8),
            "kind": "passwordless_code",
            "to": to,
            "code": code,
            "created_at": timestamp(self._clock()),
            "expires_at": timestamp(expires_at),
        }
        self.messages.append(message)
        return message

    def holder(self, ticket: str) -> tuple[str, str]:
        """The user id a ticket is for and until when, without using it up."""
        entry = self.tickets.get(ticket)
        if entry is None or float(entry["expires_at"]) < self._clock():
            raise invalid_ticket()
        return str(entry["user_id"]), timestamp(float(entry["expires_at"]))

    def redeem(self, ticket: str) -> str:
        """Use a ticket up, once: the user id it is for (its identity may since have been linked elsewhere)."""
        entry = self.tickets.pop(ticket, None)
        if entry is None or float(entry["expires_at"]) < self._clock():
            raise invalid_ticket()
        return str(entry["user_id"])


def invalid_ticket() -> ManagementError:
    return ManagementError(400, "The ticket is invalid, expired or already used.", "invalid_ticket")
