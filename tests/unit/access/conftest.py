"""What the access tests share: a verifier that trusts the throwaway key k1, served by an in-memory JWKS."""

from __future__ import annotations

import pytest

from chalicelib.access.jwks import JwksCache
from chalicelib.access.verifier import AccessTokenVerifier
from tests.tokens import AUDIENCE, ISSUER, FakeJwksEndpoint, rsa_key


@pytest.fixture
def verifier() -> AccessTokenVerifier:
    endpoint = FakeJwksEndpoint()
    endpoint.publish(rsa_key("k1"))
    keys = JwksCache("https://tenant.example.auth0.com/.well-known/jwks.json", algorithms=["RS256"], fetcher=endpoint)
    return AccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE, keys=keys)
