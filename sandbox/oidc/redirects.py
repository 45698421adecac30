"""Where a browser is sent back to: only URLs the application registered, by redirect or ``web_message``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from sandbox.http.wire import Response
from sandbox.oidc.pages import web_message_page

# Any C0 control character or DEL: a URL that carries one is never a registered URL, and CR or LF
# written into ``Location`` would start a header of the requester's choosing.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def url_allowed(allowed: tuple[str, ...], url: str) -> bool:
    """The very text of a registered URL, except that ``https://app`` and ``https://app/`` are the same.

    Compared as raw strings, never after parsing: ``urlsplit`` drops a fragment and strips CR, LF
    and TAB, so ``https://app#%0d%0aSet-Cookie:...`` would compare equal to ``https://app`` and
    then be written, as received, into ``Location``. A fragment is refused outright (RFC 6749
    3.1.2: a redirection URI must not include one), and so is any control character.
    """
    if not url or "#" in url or _CONTROL.search(url):
        return False
    return url in _registered_forms(allowed)


def _registered_forms(allowed: tuple[str, ...]) -> set[str]:
    """The registered URLs as written, plus the other spelling of each bare origin (with or without ``/``).

    Only the registered side is parsed: it is the tenant's own configuration, not a request's.
    """
    forms: set[str] = set()
    for entry in allowed:
        forms.add(entry)
        origin = entry.removesuffix("/")
        parts = urlsplit(origin)
        if parts.scheme and parts.netloc and origin == f"{parts.scheme}://{parts.netloc}":
            forms.update({origin, f"{origin}/"})
    return forms


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
