"""The HTML a person sees, rendered from ``templates/``: login, Google, e-mail codes, errors, silent auth, set-password.

Templates are ``string.Template`` files. Every value is escaped with ``html.escape`` unless it is
markup this module made (another template, or JSON made safe for a script). Pages carry no
third-party resources. Only the ``web_message`` answer runs a script (one inline script, allowed
by a per-response CSP nonce), and only it may be framed: the SDK loads it in a hidden iframe.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from sandbox.http.wire import Response

HTML_TYPE = "text/html; charset=utf-8"
# Universal Login's reset request page for the database connection (the sandbox has one).
FORGOT_PASSWORD = "/u/reset-password/request"  # noqa: S105 - a path, not a password
TEMPLATES = Path(__file__).resolve().with_name("templates")
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # Tickets and transaction ids travel in URLs: never leak them to another site. Not "no-referrer":
    # that makes a browser send ``Origin: null`` on the page's own form POST, which the forms refuse.
    "Referrer-Policy": "same-origin",
}


def render(name: str, markup: Mapping[str, str] | None = None, **text: str) -> str:
    """``templates/NAME.html`` with ``text`` escaped and ``markup`` as is; a missing value is a KeyError."""
    values = {key: escape(value) for key, value in text.items()}
    return _template(name).substitute({**values, **(markup or {})})


def page(status: int, title: str, body: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """A whole page that nothing may frame, around ``body`` (rendered markup)."""
    return Response(
        status=status,
        body=render("page", {"body": body}, title=title).encode("utf-8"),
        content_type=HTML_TYPE,
        headers={
            **_PAGE_HEADERS,
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            **(headers or {}),
        },
    )


def error_page(status: int, title: str, message: str) -> Response:
    """What Auth0 shows when it cannot send the person back to the application safely."""
    return page(status, title, render("error", title=title, message=message))


def login_page(
    *,
    action: str,
    transaction: str,
    application: str,
    username: str = "",
    other_ways: Sequence[tuple[str, str]] = (),
    error: str | None = None,
    status: int = 200,
) -> Response:
    """Universal Login's form: ``username``, ``password`` and the transaction in a hidden ``state``; below it a
    button for each of ``other_ways`` (its page's path, its label), as Universal Login shows the enabled ones."""
    buttons = "".join(
        render("login_other_way", action=path, transaction=transaction, label=label) for path, label in other_ways
    )
    body = render(
        "login",
        {"alert": _alert(error), "other_ways": render("login_other_ways", {"buttons": buttons}) if buttons else ""},
        application=application,
        action=action,
        transaction=transaction,
        username=username,
        forgot=f"{FORGOT_PASSWORD}?state={quote(transaction)}",
    )
    return page(status, "Log in", body)


def forgot_password_page(
    *, transaction: str, application: str, email: str = "", error: str | None = None, status: int = 200
) -> Response:
    """Universal Login's "Forgot your password?": an address, then the change-password e-mail."""
    state = quote(transaction)
    body = render(
        "forgot_password",
        {"alert": _alert(error)},
        action=f"{FORGOT_PASSWORD}?state={state}",
        transaction=transaction,
        email=email,
        application=application,
        back=f"/u/login?state={state}",
    )
    return page(status, "Forgot your password?", body)


def check_email_page(*, transaction: str, application: str, email: str) -> Response:
    """The same answer whether or not the address has a user (as Auth0's)."""
    body = render("check_email", email=email, application=application, back=f"/u/login?state={quote(transaction)}")
    return page(200, "Check your email", body)


def google_page(
    *, action: str, transaction: str, application: str, email: str = "", error: str | None = None, status: int = 200
) -> Response:
    """The Google stand-in: ``email``, the ``email_verified`` checkbox (ticked: Google vouches for it), submit."""
    body = render(
        "google", {"alert": _alert(error)}, application=application, action=action, transaction=transaction, email=email
    )
    return page(status, "Sign in with Google", body)


def passwordless_email_page(
    *, action: str, transaction: str, application: str, email: str = "", error: str | None = None, status: int = 200
) -> Response:
    body = render(
        "passwordless_email",
        {"alert": _alert(error)},
        application=application,
        action=action,
        transaction=transaction,
        email=email,
    )
    return page(status, "Sign in with an e-mail code", body)


def passwordless_code_page(
    *, action: str, restart: str, transaction: str, email: str, error: str | None = None, status: int = 200
) -> Response:
    body = render(
        "passwordless_code",
        {"alert": _alert(error)},
        action=action,
        restart=restart,
        transaction=transaction,
        email=email,
    )
    return page(status, "Check your email", body)


def web_message_page(target_origin: str, response: Mapping[str, Any]) -> Response:
    """``response_mode=web_message``: post the result to the opener or parent at exactly ``target_origin``."""
    nonce = secrets.token_urlsafe(16)
    message = {"type": "authorization_response", "response": dict(response)}
    document = render(
        "web_message", {"message": _script_json(message), "target_origin": _script_json(target_origin)}, nonce=nonce
    )
    return Response(
        status=200,
        body=document.encode("utf-8"),
        content_type=HTML_TYPE,
        headers={
            **_PAGE_HEADERS,
            "Content-Security-Policy": f"default-src 'none'; script-src 'nonce-{nonce}'",
        },
    )


def reset_password_page(
    *, action: str, ticket: str, email: str, error: str | None = None, status: int = 200
) -> Response:
    body = render("reset_password", {"alert": _alert(error)}, email=email, action=action, ticket=ticket)
    return page(status, "Change your password", body)


def password_changed_page(sign_in_url: str) -> Response:
    return page(200, "Password changed", render("password_changed", sign_in_url=sign_in_url))


def signed_out_page() -> Response:
    return page(200, "Signed out", render("signed_out"))


def _alert(error: str | None) -> str:
    return render("alert", message=error) if error else ""


@functools.cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / f"{name}.html").read_text(encoding="utf-8"))


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no ``</script>``, no HTML comment, no line separators."""
    text = json.dumps(value, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


# What each kind of message is, as the person reading the outbox would call it.
_MESSAGE_KINDS = {"password_reset": "Change your password", "verification_email": "Verify your e-mail"}


def outbox_page(messages: list[dict[str, Any]], *, recipient: str | None) -> Response:
    """The outbox as a browser shows it: each message, newest first, with its link to click."""
    shown = [_message(message) for message in reversed(messages)]
    body = render(
        "outbox",
        {"messages": "\n".join(shown) or render("outbox_empty")},
        recipient=f" to {recipient}" if recipient else "",
    )
    return page(200, "Outbox", body)


def _message(message: dict[str, Any]) -> str:
    link = ""
    if isinstance(message.get("ticket_url"), str):
        link = render(
            "outbox_link",
            url=message["ticket_url"],
            expires_at=str(message.get("expires_at", "")),
            label="Set a password",
        )
    kind = str(message.get("kind", ""))
    return render(
        "outbox_message",
        {"link": link},
        kind=_MESSAGE_KINDS.get(kind, kind),
        to=str(message.get("to", "")),
        created_at=str(message.get("created_at", "")),
    )
