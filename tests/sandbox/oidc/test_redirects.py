"""Redirect targets: only the very text of a registered URL; a crafted one gets an error page, no header of its own.

The black-box sweep writes each request line by hand on a raw socket, so every byte (raw CR/LF,
percent-encoded ones, a ``%23`` fragment, whitespace, another case) reaches the sandbox exactly as
sent, and reads the answer's head without a client library's help.
"""

from __future__ import annotations

import socket

import pytest

from sandbox.defaults import SPA_CLIENT_ID
from sandbox.server import SandboxServer
from tests.sandbox.browser import SPA, TIMEOUT, Browser, Pkce

PLANTED = "Set-Cookie:%20auth0=planted"
# Each as it appears in the request line: the sandbox decodes the query, so %0d%0a arrives as CR LF.
ENCODED_TARGETS = [
    f"{SPA}%0d%0a{PLANTED}",
    f"{SPA}%0D%0A{PLANTED}",
    f"{SPA}%0a{PLANTED}",
    f"{SPA}%0d{PLANTED}",
    f"{SPA}/%0d%0a{PLANTED}",
    f"{SPA}%23%0d%0a{PLANTED}",  # the fragment urlsplit() drops, hiding the CR LF behind it
    f"{SPA}%23",
    f"{SPA}%23frag",
    f"{SPA}/%23frag",
    f"{SPA}?x=%0d%0a{PLANTED}",
    f"{SPA}%250d%250a{PLANTED}",  # double-encoded: arrives as the text %0d%0a, still not a callback
    f"{SPA}%09",
    f"{SPA}/%09",
    f"%09{SPA}",
    f"{SPA}%20",
    f"%20{SPA}",
    f"{SPA}%0b",
    f"{SPA}%0c",
    f"{SPA}%00",
    f"{SPA}%7f",
    f"{SPA}%c2%85",  # NEL, a line break to str.splitlines()
    f"{SPA}%e2%80%a8",  # LINE SEPARATOR
    "HTTP://127.0.0.1:3000",
    "Http://127.0.0.1:3000/",
    "http://LOCALHOST:3000",
    "http://127.0.0.1:30001",
    "http://127.0.0.1:3000@evil.example",
    "http://127.0.0.1:3000%40evil.example",
    "http://127.0.0.1:3000.evil.example",
    "http://127.0.0.1:3000%5c@evil.example",
    "http://127.0.0.1:3000/..",
    "//127.0.0.1:3000",
]
# Raw bytes in the request line: they end or split it, so the target never arrives whole.
RAW_TARGETS = [
    f"{SPA}\r\nSet-Cookie: auth0=planted",
    f"{SPA}\nSet-Cookie: auth0=planted",
    f"{SPA}\rSet-Cookie: auth0=planted",
    f"{SPA}\tSet-Cookie: auth0=planted",
    f"{SPA} Set-Cookie: auth0=planted",
]
# Where the sandbox sends a browser back: /authorize's error redirect (no PKCE), both logouts.
ENDPOINTS = {
    "authorize": f"/authorize?client_id={SPA_CLIENT_ID}&response_type=code&state=s1&redirect_uri={{target}}",
    "v2-logout": f"/v2/logout?client_id={SPA_CLIENT_ID}&returnTo={{target}}",
    "v2-logout-any-client": "/v2/logout?returnTo={target}",
    "oidc-logout": f"/oidc/logout?client_id={SPA_CLIENT_ID}&post_logout_redirect_uri={{target}}&state=s1",
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_crafted_redirect_targets_get_an_error_page_and_never_a_redirect_or_a_header_of_their_own(
    server: SandboxServer, endpoint: str
) -> None:
    template = ENDPOINTS[endpoint]
    for registered in (SPA, f"{SPA}/"):  # the request is well formed: the registered URL is redirected to
        status, headers, _ = raw_get(server, template.format(target=registered))
        assert status == 302, registered
        assert headers["location"][0].startswith(registered), registered
    wrong: list[str] = []
    for target in ENCODED_TARGETS:
        status, headers, _ = raw_get(server, template.format(target=target))
        html_error = status == 400 and headers.get("content-type", [""])[0].startswith("text/html")
        if not html_error or "location" in headers or injected(headers):
            wrong.append(f"{target!r}: {status} {sorted(headers)}")
    for target in RAW_TARGETS:
        status, headers, _ = raw_get(server, template.format(target=target))
        if (status is not None and 300 <= status < 400) or "location" in headers or injected(headers):
            wrong.append(f"raw {target!r}: {status} {sorted(headers)}")
    assert not wrong, "\n".join(wrong)


def test_a_registered_url_with_anything_after_it_is_not_a_callback(server: SandboxServer) -> None:
    browser = Browser(server)
    for redirect_uri in ("http://127.0.0.1:30001", "http://127.0.0.1:3000@evil.example", f"{SPA}/x", f"{SPA}?a=b"):
        answer = browser.authorize(Pkce(), redirect_uri=redirect_uri)
        assert (answer.status_code, "Location" in answer.headers) == (400, False), redirect_uri
        assert "Callback URL mismatch" in answer.text


def test_the_registered_url_with_or_without_its_slash_is_a_callback(server: SandboxServer) -> None:
    browser = Browser(server)
    for redirect_uri in (SPA, f"{SPA}/"):
        answer = browser.authorize(Pkce(), redirect_uri=redirect_uri, prompt="none")
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith(f"{redirect_uri}?error=login_required")


def injected(headers: dict[str, list[str]]) -> bool:
    return any("planted" in value for values in headers.values() for value in values)


def raw_get(server: SandboxServer, target: str) -> tuple[int | None, dict[str, list[str]], bytes]:
    """GET ``target`` exactly as written; the status (None for a head-less HTTP/0.9 answer) and every header."""
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as connection:
        connection.sendall(request.encode("latin-1"))
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    if not received.startswith(b"HTTP/"):
        return None, {}, received
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(status_line.split(" ")[1]), headers, body
