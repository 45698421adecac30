"""The JWTs the tenant issues and checks (PyJWT): access and ID tokens, and people's tokens with their permissions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jwt

from sandbox.tenant.keys import ALGORITHM, SigningKey
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.users import UserRecord

OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
DEFAULT_USER_SCOPE = "openid profile email"
EXPIRED_MESSAGE = "Expired token received for JSON Web Token validation"


class TokenRejected(Exception):
    """A bearer token the sandbox did not issue for this audience, or one that expired."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenIssuer:
    """Signs tokens as ``issuer`` (the base URL with one trailing slash) and verifies its own."""

    def __init__(self, key: SigningKey, issuer: str, *, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self.issuer = issuer
        self._clock = clock

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.key.private_key, algorithm=ALGORITHM, headers={"kid": self.key.kid})

    def access_token(
        self,
        *,
        subject: str,
        audience: str | list[str],
        client_id: str,
        scope: str,
        lifetime: int,
        permissions: Iterable[str] | None = None,
        grant_type: str | None = None,
        issued_at: int | None = None,
        custom_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """An access token with Auth0's claims (``permissions`` when RBAC adds them) and an Action's custom ones."""
        now = int(self._clock()) if issued_at is None else issued_at
        claims: dict[str, Any] = {
            **(custom_claims or {}),
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "azp": client_id,
            "scope": scope,
        }
        if grant_type is not None:
            claims["gty"] = grant_type
        if permissions is not None:
            claims["permissions"] = sorted(set(permissions))
        return self.sign(claims)

    def id_token(self, *, subject: str, client_id: str, lifetime: int, profile: Mapping[str, Any]) -> str:
        now = int(self._clock())
        claims = {**profile, "iss": self.issuer, "sub": subject, "aud": client_id, "iat": now, "exp": now + lifetime}
        return self.sign(claims)

    def verify(self, token: str, *, audience: str) -> dict[str, Any]:
        """The claims of a token this issuer signed for ``audience``; raise TokenRejected otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.key.kid:
                raise TokenRejected("Invalid token")
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key.public_key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected(EXPIRED_MESSAGE) from None
        except jwt.InvalidAudienceError:
            raise TokenRejected(f"Bad audience: {_audience_of(token)}") from None
        except jwt.PyJWTError:
            raise TokenRejected("Invalid token") from None
        return claims


def _audience_of(token: str) -> str:
    try:
        audience = jwt.decode(token, options={"verify_signature": False}).get("aud")
    except jwt.PyJWTError:
        return ""
    if isinstance(audience, list):
        return " ".join(str(entry) for entry in audience)
    return str(audience)


def user_access_token(
    issuer: TokenIssuer,
    tenant: Tenant,
    site: Site,
    user: UserRecord,
    *,
    client_id: str,
    scope: str,
    lifetime: int,
    grant_type: str | None = None,
    permissions: Iterable[str] | None = None,
    custom_claims: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """An access token for ``site.api_audience`` and the scope it carries.

    As with Auth0's RBAC ("add permissions in the access token"), the roles' permissions go
    in ``permissions``; ``scope`` keeps the OIDC scopes asked for and any asked-for permission
    the user holds. With ``openid`` the audience also names ``/userinfo``, as Auth0 does. ``permissions``:
    the ones the login started with (the post-login trigger took them), else the user's now.
    """
    permissions = list(tenant.permissions_of(user) if permissions is None else permissions)
    requested = [entry for entry in scope.split(" ") if entry]
    granted = [entry for entry in dict.fromkeys(requested) if entry in OIDC_SCOPES or entry in permissions]
    audience: str | list[str] = site.api_audience
    if "openid" in granted:
        audience = [site.api_audience, f"{site.base_url}/userinfo"]
    token = issuer.access_token(
        subject=user.user_id,
        audience=audience,
        client_id=client_id,
        scope=" ".join(granted),
        lifetime=lifetime,
        permissions=permissions,
        grant_type=grant_type,
        custom_claims=custom_claims,
    )
    return token, " ".join(granted)
