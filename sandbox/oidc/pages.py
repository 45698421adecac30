"""The HTML a person sees: the login page, error pages, the silent-auth answer and the set-password form.

Every value is escaped with ``html.escape``; pages carry no third-party resources. Only the
``web_message`` answer runs a script (one inline script, allowed by a per-response CSP nonce),
and only it may be framed: the SDK loads it in a hidden iframe.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from html import escape
from typing import Any

from sandbox.http.wire import Response

HTML_TYPE = "text/html; charset=utf-8"
_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;justify-content:center}"
    "main{background:#fff;margin:4rem 1rem;padding:2rem 2.5rem;border-radius:8px;max-width:24rem;width:100%;"
    "box-shadow:0 2px 12px rgba(0,0,0,.08)}h1{font-size:1.4rem;margin-top:0}label{display:block;margin:1rem 0 .3rem}"
    "input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #bbb;border-radius:4px}"
    "button{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem;border:0;border-radius:4px;background:#635dff;"
    "color:#fff;cursor:pointer}.error{background:#fdecea;color:#8a1c1c;padding:.7rem;border-radius:4px}"
    ".note{color:#555;font-size:.9rem}"
)
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # Tickets and transaction ids travel in URLs: never leak them to another site. Not "no-referrer":
    # that makes a browser send ``Origin: null`` on the page's own form POST, which the forms refuse.
    "Referrer-Policy": "same-origin",
}


def page(status: int, title: str, body: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """A whole page that nothing may frame, with ``body`` already escaped by the caller."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Auth0 sandbox</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return Response(
        status=status,
        body=document.encode("utf-8"),
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
    return page(status, title, f"<h1>{escape(title)}</h1><p class=error>{escape(message)}</p>")


def login_page(
    *,
    action: str,
    transaction: str,
    application: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    """Universal Login's form: ``username``, ``password`` and the transaction in a hidden ``state``."""
    alert = f'<p class=error role=alert id="error-message">{escape(error)}</p>' if error else ""
    body = (
        "<h1>Welcome</h1>"
        f"<p class=note>Log in to continue to {escape(application)}.</p>{alert}"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="state" value="{escape(transaction)}">'
        '<label for="username">Email address</label>'
        '<input id="username" name="username" type="email" autocomplete="username" required '
        f'value="{escape(username)}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit" name="action" value="default">Continue</button></form>'
    )
    return page(status, "Log in", body)


def web_message_page(target_origin: str, response: Mapping[str, Any]) -> Response:
    """``response_mode=web_message``: post the result to the opener or parent at exactly ``target_origin``."""
    nonce = secrets.token_urlsafe(16)
    message = {"type": "authorization_response", "response": dict(response)}
    script = (
        "(function(){var w=window.opener||window.parent;"
        f"w.postMessage({_script_json(message)},{_script_json(target_origin)});}})();"
    )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorization response</title></head>'
        f'<body><script nonce="{nonce}">{script}</script></body></html>'
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
    alert = f'<p class=error role=alert id="error-message">{escape(error)}</p>' if error else ""
    body = (
        "<h1>Change your password</h1>"
        f"<p class=note>Enter a new password for {escape(email)}.</p>{alert}"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="ticket" value="{escape(ticket)}">'
        '<label for="password">New password</label>'
        '<input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>'
        '<label for="password_confirm">Confirm new password</label>'
        '<input id="password_confirm" name="password_confirm" type="password" autocomplete="new-password" '
        'minlength="8" required>'
        '<button type="submit">Reset password</button></form>'
    )
    return page(status, "Change your password", body)


def password_changed_page(sign_in_url: str) -> Response:
    body = (
        "<h1>Password changed</h1><p>Your password has been set. You can now sign in.</p>"
        f'<p><a id="sign-in" href="{escape(sign_in_url)}">Continue to sign in</a></p>'
    )
    return page(200, "Password changed", body)


def signed_out_page() -> Response:
    return page(200, "Signed out", "<h1>Signed out</h1><p>You have been signed out.</p>")


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
