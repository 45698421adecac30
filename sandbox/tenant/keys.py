"""The tenant's RS256 signing key: RSA-2048, its ``kid`` (RFC 7638 thumbprint) and its JWKS entry."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"


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
