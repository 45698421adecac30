"""Where the tenant is served: its base URL, and the issuer and audiences that follow from it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


def is_loopback_host(host: str) -> bool:
    """Only loopback hosts: the sandbox must never be reachable from another machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url_for(host: str, port: int) -> str:
    """``http://host:port`` with IPv6 hosts in brackets and no trailing slash."""
    bare = host.strip("[]")
    shown = f"[{bare}]" if ":" in bare else bare
    return f"http://{shown}:{port}"


@dataclass(frozen=True)
class Site:
    """Where the tenant is served: its issuer and audiences follow from the base URL."""

    base_url: str
    api_audience: str

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/"

    @property
    def management_audience(self) -> str:
        return f"{self.base_url}/api/v2/"
