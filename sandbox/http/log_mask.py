"""What the request log may show: buyers' addresses masked, tokens, secrets and one-time tickets hidden.

The sandbox is independent of the service, so this is its own copy of the service's rule
(``chalicelib.purchases.ping_log.mask_email``): ``customer@example.com`` -> ``c***r@example.com``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

# A request line splits into words at URL punctuation, so ``?email=`` and ``&to=`` stay readable. Each word
# is matched once (no backtracking across a 64 KiB request line) and masked when it holds an ``@``.
_WORD = re.compile(r"[^\s&?/#;,\"<>=]+")
_AT = re.compile(r"@|%40")  # raw, or percent-encoded as in ``buyer%40example.com``
# Query parameters that carry a credential or a token: a password-change ticket is as good as a password, an ID
# token (``id_token_hint``) names and addresses its holder. Matched by the name the server decodes, so
# ``id%5Ftoken%5Fhint`` is hidden too.
_SECRET_PARAMETERS = frozenset(
    {
        "access_token",
        "client_assertion",
        "client_secret",
        "code",
        "code_verifier",
        "id_token",
        "id_token_hint",
        "password",
        "refresh_token",
        "subject_token",
        "ticket",
        "token",
    }
)
_PARAMETER = re.compile(r"(?P<lead>[?&](?P<name>[^=&\s#]+)=)(?P<value>[^&\s#]*)")
# A JWT wherever it appears (a path, a parameter of another name): three base64url parts, the first a JSON header.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def mask_line(text: str) -> str:
    """A log line with every e-mail address masked and token, secret and ticket values replaced by ``***``."""
    text = _PARAMETER.sub(_mask_parameter, text)
    text = _JWT.sub("***", text)
    return _WORD.sub(lambda found: _mask_address(found.group(0)), text)


def _mask_parameter(found: re.Match[str]) -> str:
    if unquote_plus(found.group("name")).lower() in _SECRET_PARAMETERS:
        return found.group("lead") + "***"
    return found.group(0)


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
