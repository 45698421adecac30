"""Where a browser is sent back to: only URLs the application registered, by redirect or ``web_message``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from sandbox.http.wire import Response
from sandbox.oidc.pages import web_message_page


def url_allowed(allowed: tuple[str, ...], url: str) -> bool:
    """Exact match, except that ``https://app`` and ``https://app/`` are the same URL."""
    try:
        return bool(url) and _normalised(url) in {_normalised(entry) for entry in allowed}
    except ValueError:  # not even a URL ("http://[::1")
        return False


def deliver(redirect_uri: str, response_mode: str, result: Mapping[str, Any], state: str | None) -> Response:
    """Send an authorization result back to the application the way it asked for."""
    answer = {**result, **({"state": state} if state is not None else {})}
    if response_mode == "web_message":
        parts = urlsplit(redirect_uri)
        return web_message_page(f"{parts.scheme}://{parts.netloc}", answer)
    return redirect(with_query(redirect_uri, answer))


def redirect(location: str) -> Response:
    return Response(status=302, content_type=None, headers={"Location": location, "Cache-Control": "no-store"})


def with_query(url: str, values: Mapping[str, Any]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(values)}"


def _normalised(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path if parts.path not in ("", "/") else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"
