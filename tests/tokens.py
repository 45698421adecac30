"""Throwaway keys, real signed tokens and stand-ins for the issuer's JWKS endpoint.

Nothing here is checked in as data: keys are generated at test time (RSA-2048, EC P-256)
and cached per process so a run pays for each only once. Tokens are signed with PyJWT,
or assembled by hand where a test needs bytes PyJWT refuses to produce (NaN claims,
HS256 keyed with a public key). ``FakeJwksEndpoint`` is an injectable fetcher that counts
calls; ``LoopbackJwksServer`` serves a JWKS over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.api_jws import PyJWS

from chalicelib.errors import JwksFetchError

ISSUER = "https://tenant.example.auth0.com/"
AUDIENCE = "https://courses.example.com/api"
JWKS_URL = "https://tenant.example.auth0.com/.well-known/jwks.json"
SUBJECT = "auth0|64f1c2a9e4b0d1a2b3c4d5e6"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class TestKey:
    """A private key, its kid and algorithm, and the public JWK an issuer would publish."""

    __test__ = False  # not a pytest test class

    kid: str
    algorithm: str
    private_key: PrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@functools.cache
def rsa_key(kid: str = "rsa-1", algorithm: str = "RS256", bits: int = 2048) -> TestKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return TestKey(kid=kid, algorithm=algorithm, private_key=private)


@functools.cache
def ec_key(kid: str = "ec-1", algorithm: str = "ES256") -> TestKey:
    curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1()}[algorithm]
    return TestKey(kid=kid, algorithm=algorithm, private_key=ec.generate_private_key(curve))


def jwks(*keys: TestKey, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A JWKS document publishing the public halves of ``keys`` (plus raw ``extra`` entries)."""
    return {"keys": [key.public_jwk for key in keys] + list(extra or [])}


def jwks_bytes(*keys: TestKey) -> bytes:
    return json.dumps(jwks(*keys)).encode()


def claims(now: float | None = None, **overrides: Any) -> dict[str, Any]:
    """Claims of a valid Auth0 access token for this API; ``None`` overrides remove a claim."""
    issued = int(time.time() if now is None else now)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": SUBJECT,
        "aud": [AUDIENCE, "https://tenant.example.auth0.com/userinfo"],
        "iat": issued,
        "exp": issued + 3600,
        "azp": "spa-client-id",
        "scope": "openid profile email",
        "permissions": ["read:course:pencil-icons"],
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def sign(
    key: TestKey,
    payload: dict[str, Any] | None = None,
    *,
    algorithm: str | None = None,
    headers: dict[str, Any] | None = None,
    kid: str | None = None,
) -> str:
    """A token signed by ``key`` with PyJWT (``headers`` may override kid and typ).

    The claims are JSON-encoded here rather than by ``jwt.encode``, which refuses some of
    the wrong-typed claims the tests need (a non-string ``iss``, for one).
    """
    header: dict[str, Any] = {"kid": key.kid if kid is None else kid, "typ": "JWT"}
    header.update(headers or {})
    body = json.dumps(claims() if payload is None else payload, separators=(",", ":"))
    return PyJWS().encode(body.encode(), key.private_key, algorithm=algorithm or key.algorithm, headers=header)


def sign_raw(key: TestKey, payload: bytes, header: dict[str, Any]) -> str:
    """A token with an exact payload byte string (claims PyJWT would refuse to encode).

    ``header`` is written as given; a ``typ`` of "" leaves typ out.
    """
    return PyJWS().encode(payload, key.private_key, algorithm=key.algorithm, headers=header)


def hs256_token(secret: bytes, payload: dict[str, Any], header: dict[str, Any]) -> str:
    """An HS256 token keyed with ``secret``: the RS/HS confusion attack uses the public key.

    Written out by hand because PyJWT refuses a PEM public key as an HMAC secret.
    """
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def unsigned_token(payload: dict[str, Any], header: dict[str, Any]) -> str:
    """An ``alg: none`` token with an empty signature segment."""
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode()) + "."


def b64url(data: bytes) -> str:
    return _b64(data)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeClock:
    """A clock that only moves when told to (monotonic or wall, as the caller uses it)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeJwksEndpoint:
    """An injectable JWKS fetcher: serves ``document`` (or fails) and records every call."""

    document: dict[str, Any] | bytes = field(default_factory=lambda: {"keys": []})
    failing: bool = False
    calls: list[str] = field(default_factory=list)
    delay_seconds: float = 0.0

    def publish(self, *keys: TestKey) -> None:
        self.document = jwks(*keys)

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.failing:
            raise JwksFetchError("network error (ConnectionError)")
        if isinstance(self.document, bytes):
            return self.document
        return json.dumps(self.document).encode()


class LoopbackJwksServer:
    """A real HTTP server on 127.0.0.1 that serves a JWKS and counts requests."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.status = 200
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps(server.document).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@dataclass
class Answer:
    """One scripted HTTP answer of ``ScriptedServer``; ``reset`` closes the connection without one."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 that answers each GET with the next scripted ``Answer``.

    It records every request path, so a test can see what was (and was not) asked for.
    """

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                answer = server.answers.pop(0) if server.answers else Answer(status=599)
                if answer.reset:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status)
                for name, value in {"Content-Length": str(len(answer.body)), **answer.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str = "/.well-known/jwks.json") -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextmanager
def loopback_jwks(*keys: TestKey) -> Iterator[LoopbackJwksServer]:
    """Serve ``jwks(*keys)`` on 127.0.0.1 for the duration of the block."""
    server = LoopbackJwksServer(jwks(*keys))
    server.start()
    try:
        yield server
    finally:
        server.stop()
