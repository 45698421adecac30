"""Rules a request meets before its handler runs, so a web page in a browser cannot drive the sandbox.

A page on any site can make the browser send "simple" requests to a loopback port (GET, and POST
with ``text/plain``, form or no body) without asking first, and after DNS rebinding it can read
the answers too. Two rules shut both doors:

- before anything else, the ``Host`` header must name the address the sandbox serves (its base URL's
  ``host:port``, or ``localhost:PORT``, a name browsers always resolve to loopback and DNS cannot rebind);
- after routing (so unknown paths stay 404 and wrong methods 405), a Management API or ``/sandbox/``
  request that sends (or could send) a body must declare
  ``application/json``, which a page can only send after a CORS preflight the sandbox never
  approves for those paths. The Authentication API keeps JSON and form bodies, as Auth0 does.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sandbox.errors import ManagementError, OAuthError, SandboxError
from sandbox.http.routing import AUTHENTICATION, MANAGEMENT
from sandbox.http.wire import Request, media_type

# Methods that always need a JSON declaration; other methods need one only when they carry a body
# (DELETE /api/v2/users/{id}/roles does).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_MEDIA_TYPE = "application/json"


def served_hosts(base_url: str) -> frozenset[str]:
    """The ``Host`` values the sandbox at ``base_url`` answers: its own ``host:port`` and ``localhost:PORT``."""
    parts = urlsplit(base_url)
    port = parts.port
    if port is None:
        raise ValueError(f"the sandbox's base URL has no port: {base_url!r}")
    return frozenset({parts.netloc.lower(), f"localhost:{port}"})


class BrowserSafety:
    """Refuses a foreign ``Host`` and a non-JSON body where JSON is required, in Auth0's error shapes."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self._hosts = frozenset(host.lower() for host in hosts)
        if not self._hosts:
            raise ValueError("browser safety needs at least one served host")

    def host_refusal(self, request: Request, family: str) -> SandboxError | None:
        """The error for a ``Host`` this sandbox does not serve (checked before anything else), or None."""
        if self._is_served_host(request.header("host")):
            return None
        return _misdirected(family, sorted(self._hosts))

    @staticmethod
    def require_json(request: Request, family: str) -> None:
        """After routing: a Management API or ``/sandbox/`` body must be declared ``application/json`` (415)."""
        if family != AUTHENTICATION and _needs_json(request, family) and not _declares_json(request):
            raise ManagementError(415, "Content-Type must be application/json")

    def _is_served_host(self, host: str | None) -> bool:
        if host is None:
            return False
        name = host.strip().lower()
        # A Host without a port means the scheme's default (RFC 9110, 7.2): port 80 for http.
        if ":" not in name.rpartition("]")[2]:
            name = f"{name}:80"
        return name in self._hosts


def _needs_json(request: Request, family: str) -> bool:
    # Every POST, even without a body: a page's bodiless POST to /sandbox/reset needs no preflight either. A
    # Management API call carries a bearer token, which no page sends without a preflight: a bodiless one (an
    # Action's deploy, as auth0-python sends it) is taken as Auth0 takes it.
    if family == MANAGEMENT and not request.body:
        return False
    return request.method in BODY_METHODS or bool(request.body)


def _declares_json(request: Request) -> bool:
    return media_type(request.header("content-type")) == JSON_MEDIA_TYPE


def _misdirected(family: str, hosts: list[str]) -> SandboxError:
    # Never echo the refused Host: it is whatever a stranger's page chose.
    message = f"This sandbox only answers requests for {' or '.join(hosts)}"
    if family == AUTHENTICATION:
        return OAuthError(421, "invalid_request", message)
    return ManagementError(421, message)
