"""Routes: a method, a path template, the API family it belongs to and its handler."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from sandbox.errors import method_not_allowed, not_found
from sandbox.http.wire import Request, Response

Handler = Callable[[Request], Response]

MANAGEMENT = "management"
AUTHENTICATION = "authentication"
SANDBOX = "sandbox"


def family_of(path: str) -> str:
    if path == "/api/v2" or path.startswith("/api/v2/"):
        return MANAGEMENT
    if path == "/sandbox" or path.startswith("/sandbox/"):
        return SANDBOX
    return AUTHENTICATION


@dataclass(frozen=True)
class Route:
    """``template`` names path parameters in braces: ``/api/v2/users/{id}``.

    ``scopes``: a Management API token needs any one of them.
    """

    method: str
    template: str
    handler: Handler
    scopes: tuple[str, ...] = ()
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def family(self) -> str:
        return family_of(self.template)

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = list(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for this request and its decoded path parameters; 404 or 405 otherwise."""
        allowed: list[str] = []
        for route in self._routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise method_not_allowed(allowed)
        raise not_found()
