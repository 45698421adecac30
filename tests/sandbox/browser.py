"""A browser's side of Auth0's PKCE code flow, done with ``requests`` against a running sandbox."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer

TIMEOUT = 10.0
SPA = "http://127.0.0.1:3000"
API_AUDIENCE = "https://courses.local/api"
SCOPE = "openid profile email offline_access"
PASSWORD = "correct horse battery"
ROLE, PERMISSION = "rol_LocalServerless01", "read:course:serverless-handbook"
_HIDDEN_STATE = re.compile(r'<input type="hidden" name="state" value="([^"]+)">')
_HIDDEN_EMAIL = re.compile(r'<input type="hidden" name="email" value="([^"]+)">')
_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)">')
_POST_MESSAGE = re.compile(r"w\.postMessage\((\{.*\}),(\"[^\"]*\")\);")


@dataclass
class Pkce:
    """What auth0-spa-js makes up for each /authorize: verifier, S256 challenge, state and nonce."""

    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class Browser:
    """One browser (its own cookie jar) talking to the sandbox; redirects are never followed."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.http = requests.Session()

    def authorize(self, pkce: Pkce, **overrides: str | None) -> requests.Response:
        params: dict[str, str | None] = {
            "client_id": SPA_CLIENT_ID,
            "redirect_uri": SPA,
            "audience": API_AUDIENCE,
            "scope": SCOPE,
            "response_type": "code",
            "response_mode": "query",
            "state": pkce.state,
            "nonce": pkce.nonce,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
            "auth0Client": base64.b64encode(b'{"name":"auth0-spa-js","version":"2.28.3"}').decode(),
            **overrides,
        }
        query = urlencode({name: value for name, value in params.items() if value is not None})
        return self.http.get(f"{self.server.base_url}/authorize?{query}", allow_redirects=False, timeout=TIMEOUT)

    def login_page(self, pkce: Pkce, **overrides: str | None) -> requests.Response:
        """Follow /authorize to the login page."""
        answer = self.authorize(pkce, **overrides)
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"].startswith(f"{self.server.base_url}/u/login?state=")
        return self.http.get(answer.headers["Location"], allow_redirects=False, timeout=TIMEOUT)

    def submit(self, page: requests.Response, email: str, password: str) -> requests.Response:
        """Fill in and submit the login form the way a person would."""
        found = _HIDDEN_STATE.search(page.text)
        assert found is not None, page.text
        form = {"state": found.group(1), "username": email, "password": password, "action": "default"}
        return self.http.post(page.url, data=form, allow_redirects=False, timeout=TIMEOUT)

    def sign_in(self, pkce: Pkce, email: str, password: str = PASSWORD, **overrides: str | None) -> str:
        """The whole interactive sign-in; returns the authorization code the SPA receives."""
        answered = self.submit(self.login_page(pkce, **overrides), email, password)
        assert answered.status_code == 302, answered.text
        return code_from(answered, pkce)

    def session_cookie(self) -> str | None:
        return self.http.cookies.get("auth0")

    def connection_page(self, pkce: Pkce, connection: str, path: str, **overrides: str | None) -> requests.Response:
        """Follow ``/authorize?connection=`` to that connection's sign-in page."""
        answer = self.authorize(pkce, connection=connection, **overrides)
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"].startswith(f"{self.server.base_url}{path}?state="), answer.headers
        return self.http.get(answer.headers["Location"], allow_redirects=False, timeout=TIMEOUT)

    def google(self, pkce: Pkce, email: str, *, verified: bool = True, **overrides: str | None) -> requests.Response:
        """The Google stand-in: the address, the "verified" box ticked or not, submit. Returns the answer."""
        page = self.connection_page(pkce, "google-oauth2", "/stand-in/google-oauth2", **overrides)
        form = {"state": hidden_state(page), "email": email, **({"email_verified": "true"} if verified else {})}
        return self.http.post(page.url, data=form, allow_redirects=False, timeout=TIMEOUT)

    def passwordless(self, pkce: Pkce, email: str, **overrides: str | None) -> requests.Response:
        """An e-mail code: the address, the code from the outbox, submit. Returns the answer."""
        code_page = self.ask_for_code(pkce, email, **overrides)
        return self.enter_code(code_page, outbox_code(self.server, email))

    def ask_for_code(self, pkce: Pkce, email: str, **overrides: str | None) -> requests.Response:
        page = self.connection_page(pkce, "email", "/u/login/passwordless-email", **overrides)
        sent = self.http.post(
            page.url, data={"state": hidden_state(page), "email": email}, allow_redirects=False, timeout=TIMEOUT
        )
        assert sent.status_code == 200, sent.text
        return sent

    def enter_code(self, code_page: requests.Response, code: str) -> requests.Response:
        action = _FORM_ACTION.search(code_page.text)
        email = _HIDDEN_EMAIL.search(code_page.text)
        assert action is not None, code_page.text
        assert email is not None, code_page.text
        form = {"state": hidden_state(code_page), "email": email.group(1), "code": code}
        target = f"{self.server.base_url}{action.group(1).replace('&amp;', '&')}"
        return self.http.post(target, data=form, allow_redirects=False, timeout=TIMEOUT)


def hidden_state(page: requests.Response) -> str:
    found = _HIDDEN_STATE.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def outbox_code(server: SandboxServer, email: str) -> str:
    """The newest passwordless code e-mailed to ``email``."""
    outbox = requests.get(f"{server.base_url}/sandbox/outbox", params={"to": email}, timeout=TIMEOUT).json()
    codes = [message["code"] for message in outbox["messages"] if message["kind"] == "passwordless_code"]
    assert codes, outbox
    code = codes[-1]
    assert isinstance(code, str)
    return code


def code_from(answer: requests.Response, pkce: Pkce, redirect_uri: str = SPA) -> str:
    """The code in a redirect to the SPA, after checking it carries the SPA's state back."""
    location = answer.headers["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/") == redirect_uri.rstrip("/")
    query = parse_qs(parts.query)
    assert query["state"] == [pkce.state]
    return query["code"][0]


def redirect_query(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    return {name: values[0] for name, values in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def posted_message(page: requests.Response) -> tuple[dict[str, Any], str]:
    """What a ``web_message`` page posts, and the target origin it posts to."""
    found = _POST_MESSAGE.search(page.text)
    assert found is not None, page.text
    message: dict[str, Any] = json.loads(found.group(1))
    return message, json.loads(found.group(2))


def token_request(
    server: SandboxServer, body: dict[str, str], *, origin: str | None = SPA, as_json: bool = False
) -> requests.Response:
    """POST /oauth/token as auth0-spa-js does: form-encoded by default, with Auth0-Client and Origin."""
    headers = {"Auth0-Client": base64.b64encode(b'{"name":"auth0-spa-js"}').decode()}
    if origin is not None:
        headers["Origin"] = origin
    send: dict[str, Any] = {"json": body} if as_json else {"data": body}
    return requests.post(f"{server.base_url}/oauth/token", headers=headers, timeout=TIMEOUT, **send)


def exchange(server: SandboxServer, code: str, pkce: Pkce, **overrides: str) -> requests.Response:
    body = {
        "client_id": SPA_CLIENT_ID,
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": pkce.verifier,
        "redirect_uri": SPA,
        **overrides,
    }
    return token_request(server, body)


def refresh(server: SandboxServer, refresh_token: str, **overrides: str) -> requests.Response:
    body = {
        "client_id": SPA_CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "redirect_uri": SPA,
        "scope": SCOPE,
        "audience": API_AUDIENCE,
        **overrides,
    }
    return token_request(server, body)


def revoke(server: SandboxServer, refresh_token: str, client_id: str = SPA_CLIENT_ID) -> requests.Response:
    """POST /oauth/revoke as auth0-spa-js does on logout."""
    return requests.post(
        f"{server.base_url}/oauth/revoke", data={"client_id": client_id, "token": refresh_token}, timeout=TIMEOUT
    )


def seed_buyer(server: SandboxServer, email: str = "buyer@example.com", roles: tuple[str, ...] = (ROLE,)) -> str:
    answer = requests.post(
        f"{server.base_url}/sandbox/users",
        json={"email": email, "password": PASSWORD, "roles": list(roles)},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 201, answer.text
    user_id = answer.json()["user_id"]
    assert isinstance(user_id, str)
    return user_id


def signed_in(server: SandboxServer, email: str = "buyer@example.com") -> tuple[Browser, dict[str, str]]:
    browser, pkce = Browser(server), Pkce()
    answer = exchange(server, browser.sign_in(pkce, email), pkce)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return browser, tokens


def claims_of(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


def verified(server: SandboxServer, token: str, audience: str) -> dict[str, object]:
    keys = jwt.PyJWKClient(f"{server.base_url}/.well-known/jwks.json")
    claims: dict[str, object] = jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=f"{server.base_url}/",
    )
    return claims


def new_buyer_ticket_url(server: SandboxServer, email: str = "new@example.com") -> str:
    """What the service does for a new buyer: create the user, ask Auth0 to e-mail a reset link."""
    created = requests.post(f"{server.base_url}/sandbox/users", json={"email": email}, timeout=TIMEOUT)
    assert created.status_code == 201
    asked = requests.post(
        f"{server.base_url}/dbconnections/change_password",
        json={"client_id": "sandbox-m2m-client", "email": email, "connection": "Username-Password-Authentication"},
        timeout=TIMEOUT,
    )
    assert asked.status_code == 200
    outbox = requests.get(f"{server.base_url}/sandbox/outbox", params={"to": email}, timeout=TIMEOUT).json()
    (message,) = outbox["messages"]
    url = message["ticket_url"]
    assert isinstance(url, str)
    return url
