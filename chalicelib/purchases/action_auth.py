"""Who may ask ``POST /auth0/post-login``: the post-login Action, with its shared secret as a Bearer token."""

from __future__ import annotations

import hashlib
import hmac
import re

from chalicelib.errors import InvalidSignInRequest, SignInUnauthorized

# An Auth0 user id: a provider (``auth0``, ``google-oauth2``, ``email``, ``samlp``...) and its ids after a "|".
_USER_ID = re.compile(r"[A-Za-z0-9-]{1,64}\|[!-~]{1,256}")


def authenticate_action(authorization: str | None, accepted: str) -> None:
    """Raise SignInUnauthorized unless ``Authorization`` is ``Bearer <the accepted secret>``.

    SHA-256 digests compared with ``hmac.compare_digest``: the same time whatever the secret's length or how
    much of it a guess got right.
    """
    scheme, _, presented = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise SignInUnauthorized("send the post-login Action's secret as a Bearer token")
    digest = hashlib.sha256(presented.strip().encode("utf-8")).digest()
    if not hmac.compare_digest(digest, hashlib.sha256(accepted.encode("utf-8")).digest()):
        raise SignInUnauthorized("the post-login Action's secret is wrong")


def user_id_of(document: object) -> str:
    """The one field of the request: ``{"user_id": <an Auth0 user id>}``; anything else is a 400."""
    if not isinstance(document, dict) or set(document) != {"user_id"}:
        raise InvalidSignInRequest('the body must be {"user_id": <the Auth0 user id>}')
    user_id = document["user_id"]
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise InvalidSignInRequest("user_id is not an Auth0 user id")
    return user_id
