"""What the request log may show: buyers' addresses masked, one-time tickets hidden.

The sandbox is independent of the service, so this is its own copy of the service's rule
(``chalicelib.purchases.ping_log.mask_email``): ``customer@example.com`` -> ``c***r@example.com``.
"""

from __future__ import annotations

import re

# A request line splits into words at URL punctuation, so ``?email=`` and ``&to=`` stay readable. Each word
# is matched once (no backtracking across a 64 KiB request line) and masked when it holds an ``@``.
_WORD = re.compile(r"[^\s&?/#;,\"<>=]+")
_AT = re.compile(r"@|%40")  # raw, or percent-encoded as in ``buyer%40example.com``
# Query parameters that carry a credential: a password-change ticket is as good as a password.
_SECRET_PARAMETER = re.compile(r"(?P<name>[?&](?:ticket|code|refresh_token|token)=)[^&\s#]*", re.IGNORECASE)


def mask_line(text: str) -> str:
    """A log line with every e-mail address masked and credential parameters replaced by ``***``."""
    text = _SECRET_PARAMETER.sub(lambda found: found.group("name") + "***", text)
    return _WORD.sub(lambda found: _mask_address(found.group(0)), text)


def _mask_address(word: str) -> str:
    at = _AT.search(word)
    if at is None or at.start() == 0 or at.end() == len(word):
        return word
    return _masked_local(word[: at.start()]) + word[at.start() :]


def _masked_local(local: str) -> str:
    """``customer`` -> ``c***r``: enough to tell buyers apart, not to harvest."""
    if len(local) <= 2:
        return f"{local[:1]}***"
    return f"{local[0]}***{local[-1]}"
