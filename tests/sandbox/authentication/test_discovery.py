"""Discovery: the issuer, every endpoint the SPA SDK needs, and a JWKS without private parts."""

from __future__ import annotations

import requests

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    TIMEOUT,
)


def test_discovery_names_the_issuer_and_a_jwks_without_private_parts(server: SandboxServer) -> None:
    discovery = requests.get(f"{server.base_url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert discovery["issuer"] == f"{server.base_url}/"
    assert discovery["jwks_uri"] == f"{server.base_url}/.well-known/jwks.json"
    assert discovery["token_endpoint"] == f"{server.base_url}/oauth/token"
    (key,) = requests.get(discovery["jwks_uri"], timeout=TIMEOUT).json()["keys"]
    assert set(key) == {"kty", "use", "alg", "kid", "n", "e"}
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")


def test_discovery_names_every_endpoint_the_spa_sdk_needs(server: SandboxServer) -> None:
    discovery = requests.get(f"{server.base_url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    base = server.base_url
    assert discovery["issuer"] == f"{base}/"
    assert discovery["authorization_endpoint"] == f"{base}/authorize"
    assert discovery["token_endpoint"] == f"{base}/oauth/token"
    assert discovery["userinfo_endpoint"] == f"{base}/userinfo"
    assert discovery["end_session_endpoint"] == f"{base}/oidc/logout"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "refresh_token"} <= set(discovery["grant_types_supported"])
    assert "offline_access" in discovery["scopes_supported"]
    assert set(discovery["response_modes_supported"]) == {"query", "web_message"}
