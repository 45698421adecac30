"""A plain OIDC client for the local stack: authorization code + PKCE through each way in, then ``GET /courses``.

It does what a browser and the example SPA do, with the standard library only: ``/authorize`` with a
``connection``, the sandbox's redirects followed, its forms filled by their input names (``username`` and
``password``; ``email`` and ``email_verified``; ``email``, then ``code`` from the outbox), the code exchanged
at ``/oauth/token``, and once more through the refresh token when the login's ID token says the courses
changed during it (the post-login Action's ``renew``). ``python -m devstack.oidc_client`` runs every way
against ``make run`` and prints what each one opens.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.cookiejar
import json
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

SIGN_IN_CLAIM = "https://gumroad-auth0-gate/sign_in"
SPA_CLIENT_ID = "sandbox-spa-client"
AUDIENCE = "https://courses.local/api"
SCOPE = "openid profile email offline_access"
MAX_HOPS = 8


class SignInFailed(Exception):
    pass


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden inputs, and the inputs' names with their values


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(action=values.get("action", ""), method=values.get("method", "get").lower()))
        elif tag == "input" and self.forms and "name" in values:
            self.forms[-1].fields[values["name"]] = values.get("value", "")


def forms_of(page: str) -> list[Form]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


@dataclass(frozen=True)
class Answer:
    status: int
    location: str | None
    body: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # every redirect is looked at, never followed blindly


class Browser:
    """A cookie jar and no automatic redirects: the client decides where it goes."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def request(self, method: str, url: str, form: Mapping[str, str] | None = None) -> Answer:
        data = urlencode(form).encode() if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback
        try:
            with self._opener.open(request, timeout=30) as answer:
                return Answer(answer.status, answer.headers.get("Location"), answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers.get("Location"), error.read().decode("utf-8"))


@dataclass(frozen=True)
class Way:
    """One way in: the ``connection`` for ``/authorize`` and what its pages are filled with."""

    name: str
    connection: str | None
    verified: bool = True


PASSWORD = Way("password", None)
GOOGLE = Way("google (verified)", "google-oauth2")
GOOGLE_UNVERIFIED = Way("google (not verified)", "google-oauth2", verified=False)
EMAIL_CODE = Way("email code", "email")


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str | None

    @property
    def claims(self) -> dict[str, Any]:
        return _payload(self.id_token)

    @property
    def sign_in(self) -> dict[str, Any]:
        result = self.claims.get(SIGN_IN_CLAIM)
        return result if isinstance(result, dict) else {}


class OidcClient:
    def __init__(self, *, tenant: str, redirect_uri: str, client_id: str = SPA_CLIENT_ID) -> None:
        self.tenant = tenant.rstrip("/")
        self.redirect_uri = redirect_uri
        self.client_id = client_id

    def sign_in(self, way: Way, email: str, *, password: str | None = None) -> Tokens:
        """The whole login for one way in; raises SignInFailed with what the tenant said."""
        browser = Browser()
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(16)
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "audience": AUDIENCE,
            "scope": SCOPE,
            "response_type": "code",
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": _s256(verifier),
            "code_challenge_method": "S256",
            **({"connection": way.connection} if way.connection else {}),
        }
        answer = browser.request("GET", f"{self.tenant}/authorize?{urlencode(query)}")
        page_url, answer = self._follow(browser, answer)
        filled = {"email": email, "username": email, "password": password or ""}
        if way.verified:
            filled["email_verified"] = "true"
        for _ in range(MAX_HOPS):
            if answer.location is not None and answer.location.startswith(self.redirect_uri):
                return self._exchange(answer.location, state, verifier)
            form = next((form for form in forms_of(answer.body) if form.method == "post"), None)
            if form is None:
                raise SignInFailed(f"no form to fill at {page_url} (HTTP {answer.status})")
            values = {name: filled.get(name, value) for name, value in form.fields.items()}
            if not way.verified:
                values.pop("email_verified", None)  # an unticked checkbox is not sent
            if "code" in values:
                values["code"] = self._outbox_code(email)
            target = urljoin(page_url, form.action.replace("&amp;", "&"))
            page_url, answer = self._follow(browser, browser.request("POST", target, values), target)
        raise SignInFailed("the sign-in never came back to the application")

    def _follow(self, browser: Browser, answer: Answer, url: str = "") -> tuple[str, Answer]:
        """Follow the tenant's own redirects; stop at a page, or at the way back to the application."""
        for _ in range(MAX_HOPS):
            location = answer.location
            if answer.status not in (301, 302, 303) or location is None or location.startswith(self.redirect_uri):
                return url, answer
            url = urljoin(self.tenant + "/", location)
            if not url.startswith(self.tenant + "/"):
                raise SignInFailed(f"the tenant sent the browser elsewhere: {url}")
            answer = browser.request("GET", url)
        raise SignInFailed("too many redirects")

    def _exchange(self, location: str, state: str, verifier: str) -> Tokens:
        query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        if query.get("state") != state:
            raise SignInFailed("the state that came back is not ours")
        if "code" not in query:
            raise SignInFailed(f"{query.get('error')}: {query.get('error_description')}")
        body = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "code": query["code"],
            "code_verifier": verifier,
            "redirect_uri": self.redirect_uri,
        }
        return self._token(body)

    def renewed(self, tokens: Tokens) -> Tokens:
        """What the SPA does when the courses changed during the login: one more token, by refresh token."""
        if tokens.refresh_token is None:
            raise SignInFailed("no refresh token to renew with")
        body = {"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": tokens.refresh_token}
        renewed = self._token(body)
        return Tokens(renewed.access_token, tokens.id_token, renewed.refresh_token)  # the login's claims stay

    def _token(self, body: Mapping[str, str]) -> Tokens:
        status, answer = _json("POST", f"{self.tenant}/oauth/token", urlencode(body).encode(), form=True)
        if status != 200:
            raise SignInFailed(f"/oauth/token answered {status}: {answer}")
        return Tokens(answer["access_token"], answer.get("id_token", ""), answer.get("refresh_token"))

    def _outbox_code(self, email: str) -> str:
        _, outbox = _json("GET", f"{self.tenant}/sandbox/outbox?to={quote(email.strip().lower())}")
        codes = [message["code"] for message in outbox["messages"] if message.get("kind") == "passwordless_code"]
        if not codes:
            raise SignInFailed(f"no code in the outbox for {email}")
        return str(codes[-1])


def courses(service: str, tokens: Tokens) -> list[str]:
    status, answer = _json("GET", f"{service}/courses", headers={"Authorization": f"Bearer {tokens.access_token}"})
    if status != 200:
        raise SignInFailed(f"GET /courses answered {status}: {answer}")
    return [course["slug"] for course in answer["courses"]]


def courses_after_sign_in(
    client: OidcClient, service: str, way: Way, email: str, *, password: str | None = None
) -> tuple[list[str], str]:
    """The courses a student sees right after signing in one way, and what the sign-in said."""
    tokens = client.sign_in(way, email, password=password)
    said = tokens.sign_in
    if said.get("renew") is True:
        tokens = client.renewed(tokens)
    return courses(service, tokens), str(said.get("result", "none"))


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _payload(jwt: str) -> dict[str, Any]:
    if not jwt:
        return {}
    segment = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def _json(
    method: str, url: str, body: bytes | None = None, *, form: bool = False, headers: Mapping[str, str] | None = None
) -> tuple[int, Any]:
    sent = {**({"Content-Type": "application/x-www-form-urlencoded"} if form else {}), **(headers or {})}
    request = urllib.request.Request(url, data=body, method=method, headers=sent)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def set_password(tenant: str, email: str, password: str) -> None:
    """Open the set-password link from the outbox and fill in its form, as a new buyer does."""
    _, outbox = _json("GET", f"{tenant}/sandbox/outbox?to={quote(email)}")
    links = [message["ticket_url"] for message in outbox["messages"] if "ticket_url" in message]
    if not links:
        raise SignInFailed(f"no set-password e-mail for {email}")
    browser = Browser()
    page = browser.request("GET", links[-1])
    (form,) = [form for form in forms_of(page.body) if form.method == "post"]
    values = {**form.fields, "password": password, "password_confirm": password}
    done = browser.request("POST", urljoin(links[-1], form.action), values)
    if done.status != 200:
        raise SignInFailed(f"the set-password page answered {done.status}")


def buy(service: str, ping_secret: str, email: str) -> None:
    """A Gumroad sale ping for the Serverless Handbook, sent to the service as Gumroad sends it."""
    from devstack.demo import gumroad_body  # the recorded sale body, fields changed

    sale_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()
    credentials = base64.b64encode(f"gumroad:{ping_secret}".encode()).decode()
    status, answer = _json(
        "POST",
        f"{service}/gumroad/ping",
        gumroad_body("sale", email=email, sale_id=sale_id),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {credentials}"},
    )
    if status != 200 or answer.get("status") != "processed":
        raise SignInFailed(f"the sale ping answered {status}: {answer}")


def run_every_way(client: OidcClient, *, service: str, ping_secret: str) -> list[tuple[str, str, list[str], str]]:
    """Two buyers of the Serverless Handbook: one signs in each verified way, one with an unverified Google account.

    Returns (way, address, courses seen, what the sign-in said) per sign-in.
    """
    tag = secrets.token_hex(3)
    buyer, other = f"oidc-{tag}@example.com", f"oidc-unverified-{tag}@example.com"
    password = "correct horse battery " + tag
    buy(service, ping_secret, buyer)
    buy(service, ping_secret, other)
    set_password(client.tenant, buyer, password)
    seen = []
    for way, email in ((PASSWORD, buyer), (GOOGLE, buyer), (EMAIL_CODE, buyer), (GOOGLE_UNVERIFIED, other)):
        slugs, said = courses_after_sign_in(client, service, way, email, password=password)
        seen.append((way.name, email, slugs, said))
    return seen


def main(argv: Sequence[str] | None = None) -> int:
    from devstack.stack import LocalStage

    parser = argparse.ArgumentParser(prog="python -m devstack.oidc_client", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tenant", default="http://127.0.0.1:8787", help="the sandbox (default %(default)s)")
    parser.add_argument("--service", default="http://127.0.0.1:8000", help="the service (default %(default)s)")
    parser.add_argument("--redirect-uri", default="http://127.0.0.1:3000", help="the SPA's origin")
    args = parser.parse_args(argv)
    client = OidcClient(tenant=args.tenant, redirect_uri=args.redirect_uri)
    try:
        seen = run_every_way(client, service=args.service, ping_secret=LocalStage.read().ping_secret)
    except (SignInFailed, OSError) as failed:
        print(f"oidc_client: {failed}", file=sys.stderr)
        return 1
    width = max(len(way) for way, *_ in seen)
    for way, email, slugs, said in seen:
        print(f"{way:<{width}}  {email:<36}  courses: {', '.join(slugs) or '(none)':<22}  sign-in said: {said}")
    expected = [bool(slugs) for *_, slugs, _ in seen] == [True, True, True, False]
    print("every verified way opens the course, the unverified one none" if expected else "UNEXPECTED")
    return 0 if expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
