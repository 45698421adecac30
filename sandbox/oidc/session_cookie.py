"""The ``auth0`` session cookie: read by hand from a request, and set or cleared on an answer."""

from __future__ import annotations

from sandbox.http.wire import Request

SESSION_COOKIE = "auth0"


def session_cookie(request: Request) -> str | None:
    """The ``auth0`` cookie's value (parsed by hand: one odd cookie of another app must not hide it)."""
    for pair in (request.header("cookie") or "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


def set_cookie(value: str, max_age: int) -> str:
    """The ``Set-Cookie`` value; an empty value with ``max_age`` 0 clears it."""
    # SameSite=Lax: 127.0.0.1:3000 and the sandbox's 127.0.0.1 port are the same site, so the
    # SDK's hidden silent-auth iframe still sends it; no Secure, the sandbox speaks plain HTTP.
    return f"{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
