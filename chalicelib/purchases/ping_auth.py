"""Who may send a ping: the shared secret (HTTP Basic password or ``token``), and the seller."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from chalicelib.errors import MalformedPing, PingForbidden, PingUnauthorized
from chalicelib.purchases.events import PingEvent, SaleEvent


def presented_secrets(authorization: str | None, token_params: Sequence[str]) -> list[str]:
    """Every secret the request presents: the Basic password and/or ``?token=``.

    Gumroad turns URL userinfo (``https://gumroad:SECRET@host/...``) into HTTP Basic
    authentication; the user name carries nothing and is ignored.
    """
    presented = list(token_params)
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise PingUnauthorized("authenticate with the ping secret (HTTP Basic password or token)")
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except ValueError:
            # binascii.Error (bad base64), UnicodeDecodeError (not UTF-8) and the ValueError that
            # b64decode raises for non-ASCII text are all one answer: these credentials say nothing.
            raise PingUnauthorized("the Basic credentials cannot be decoded") from None
        _, separator, password = decoded.partition(":")
        if not separator:
            raise PingUnauthorized("the Basic credentials carry no password")
        presented.append(password)
    return presented


def authenticate_ping(presented: Sequence[str], accepted: Sequence[str]) -> None:
    """Raise PingUnauthorized unless a secret was presented and every one presented is accepted.

    Comparing SHA-256 digests with ``hmac.compare_digest`` takes the same time whatever the
    secret's length or how much of it an attacker guessed right.
    """
    if not presented:
        raise PingUnauthorized("the ping secret is missing")
    accepted_digests = [_digest(secret) for secret in accepted]
    for secret in presented:
        digest = _digest(secret)
        matches = [hmac.compare_digest(digest, candidate) for candidate in accepted_digests]
        if not any(matches):
            raise PingUnauthorized("the ping secret is wrong")


def check_seller(event: PingEvent, seller_id: str | None) -> None:
    """Sale-type events must carry the configured seller; subscription events carry none."""
    if seller_id is None or not isinstance(event, SaleEvent):
        return
    if event.seller_id is None:
        raise MalformedPing("seller_id is missing")
    if not hmac.compare_digest(event.seller_id.encode("utf-8"), seller_id.encode("utf-8")):
        raise PingForbidden("this ping is for another Gumroad seller")


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()
