"""What the sandbox's tests share: its defaults, the recordings, raw Management API and ``/sandbox/`` calls,
auth0-python's token calls, and the service's own token verifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from auth0.authentication import GetToken

from chalicelib.access.jwks import JwksCache
from chalicelib.access.verifier import AccessTokenVerifier
from chalicelib.auth0_api.directory import ACCOUNT_FIELDS
from chalicelib.config.access_settings import load_access_settings
from sandbox.server import SandboxServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "auth0"
REPOSITORY = Path(__file__).resolve().parent.parent.parent
TIMEOUT = 5.0
CONNECTION = "Username-Password-Authentication"
M2M_ID, M2M_SECRET = "sandbox-m2m-client", "sandbox-m2m-client-secret-not-a-real-secret"
LOGIN_ID, LOGIN_SECRET = "sandbox-login-client", "sandbox-login-client-secret-not-a-real-secret"
CHECK_ID, CHECK_SECRET = "sandbox-check-client", "sandbox-check-client-secret-not-a-real-secret"
API_AUDIENCE = "https://courses.local/api"
ROLE, PERMISSION = "rol_LocalServerless01", "read:course:serverless-handbook"
OTHER_ROLE, OTHER_PERMISSION = "rol_LocalMembership2", "read:course:pro-membership"
USER_FIELDS = ACCOUNT_FIELDS  # what the service asks for
PASSWORD = "correct horse battery"
SERVICE_SCOPES = [
    "read:users",
    "update:users",
    "create:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
]
LIFETIME = 300  # a token lifetime that is not the default, for the servers that report it


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def m2m_token(server: SandboxServer) -> str:
    answer = GetToken(server.domain, M2M_ID, client_secret=M2M_SECRET, protocol="http", telemetry=False)
    token = answer.client_credentials(audience=server.management_audience)["access_token"]
    assert isinstance(token, str)
    return token


def api(server: SandboxServer, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
    """A raw Management API request (the M2M token by default)."""
    headers = {"Authorization": f"Bearer {token or server.management_token()}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{server.base_url}{path}", headers=headers, timeout=TIMEOUT, **kwargs)


def dev(server: SandboxServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{server.base_url}/sandbox/{path}", timeout=TIMEOUT, **kwargs)


def create_buyer(server: SandboxServer, email: str = "buyer@example.com") -> dict[str, Any]:
    body = {
        "connection": CONNECTION,
        "email": email,
        "password": "Random-Password-1!",
        "email_verified": False,
        "verify_email": False,
        "app_metadata": {},
    }
    answer = api(server, "POST", "/api/v2/users", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def login(server: SandboxServer, email: str, password: str, forwarded_for: str | None = None) -> dict[str, Any]:
    client = GetToken(server.domain, LOGIN_ID, client_secret=LOGIN_SECRET, protocol="http", telemetry=False)
    answer: dict[str, Any] = client.login(
        username=email,
        password=password,
        realm=CONNECTION,
        audience=API_AUDIENCE,
        scope="openid",
        forwarded_for=forwarded_for,
    )
    return answer


def service_verifier(server: SandboxServer) -> AccessTokenVerifier:
    """The service's own verifier, configured the way the ``local`` stage configures it."""
    settings = load_access_settings({"AUTH0_DOMAIN": server.base_url, "AUTH0_AUDIENCE": API_AUDIENCE})
    keys = JwksCache(settings.jwks_url, algorithms=settings.algorithms)
    return AccessTokenVerifier(issuer=settings.issuer, audience=settings.audience, keys=keys)


def types_of(document: dict[str, Any]) -> dict[str, type]:
    return {key: type(value) for key, value in document.items()}


def token_for(server: SandboxServer, client_id: str, secret: str) -> dict[str, Any]:
    client = GetToken(server.domain, client_id, client_secret=secret, protocol="http", telemetry=False)
    answer: dict[str, Any] = client.client_credentials(audience=server.management_audience)
    return answer


def machine_application(server: SandboxServer, token: str) -> tuple[str, str]:
    """A client-credentials application made through the Management API: its id and its secret (as Auth0 shows
    it to a token with read:client_keys)."""
    client = api(
        server, "POST", "/api/v2/clients", token=token, json={"name": "s", "grant_types": ["client_credentials"]}
    )
    client_id: str = client.json()["client_id"]
    secret: str = api(server, "GET", f"/api/v2/clients/{client_id}", token=token).json()["client_secret"]
    return client_id, secret


def read(server: SandboxServer, path: str, token: str, **params: Any) -> requests.Response:
    return requests.get(
        f"{server.base_url}/api/v2{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
