"""What the request log may show: buyers' addresses masked, one-time tickets hidden.

The sandbox is independent of the service, so this is its own copy of the service's rule
(``chalicelib.ping_log.mask_email``): ``customer@example.com`` -> ``c***r@example.com``.
"""

from __future__ import annotations

import re

# An address in a request line, raw or percent-encoded (``buyer%40example.com``); the local part
# stops at URL punctuation so ``?email=`` and ``&to=`` stay readable.
_ADDRESS = re.compile(
    r"(?P<local>(?:[^\s@%=&?/#;,\"<>]|%(?!40)[0-9A-Fa-f]{2})+)"  # raw characters or %XX escapes other than @
    r"(?P<at>@|%40)"
    r"(?P<domain>[^\s&?/#;,\"<>]+)"
)
# Query parameters that carry a credential: a password-change ticket is as good as a password.
_SECRET_PARAMETER = re.compile(r"(?P<name>[?&](?:ticket|code|refresh_token|token)=)[^&\s#]*", re.IGNORECASE)


def mask_line(text: str) -> str:
    """A log line with every e-mail address masked and credential parameters replaced by ``***``."""
    text = _SECRET_PARAMETER.sub(lambda found: found.group("name") + "***", text)
    return _ADDRESS.sub(lambda found: _masked_local(found["local"]) + found["at"] + found["domain"], text)


def _masked_local(local: str) -> str:
    """``customer`` -> ``c***r``: enough to tell buyers apart, not to harvest."""
    if len(local) <= 2:
        return f"{local[:1]}***"
    return f"{local[0]}***{local[-1]}"
