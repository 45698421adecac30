"""The tenant's RS256 signing key, its JWKS, and the JWTs the sandbox issues and checks (PyJWT)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
EXPIRED_MESSAGE = "Expired token received for JSON Web Token validation"


class TokenRejected(Exception):
    """A bearer token the sandbox did not issue for this audience, or one that expired."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SigningKey:
    """An RSA-2048 private key and its ``kid`` (the RFC 7638 thumbprint of the public key)."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self._public_jwk: dict[str, str] = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        thumbprint_input = json.dumps(
            {"e": self._public_jwk["e"], "kty": "RSA", "n": self._public_jwk["n"]},
            separators=(",", ":"),
            sort_keys=True,
        )
        digest = hashlib.sha256(thumbprint_input.encode("ascii")).digest()
        self.kid = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the sandbox signing key must be an RSA private key")
        return cls(key)

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def public_jwk(self) -> dict[str, str]:
        """The JWKS entry: public numbers only, bound to RS256 signatures."""
        numbers = {"n": self._public_jwk["n"], "e": self._public_jwk["e"]}
        return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": self.kid, **numbers}


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
    ) -> str:
        """An access token with Auth0's claims (``permissions`` when RBAC adds them)."""
        now = int(self._clock()) if issued_at is None else issued_at
        claims: dict[str, Any] = {
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
