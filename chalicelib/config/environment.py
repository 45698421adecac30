"""How the service reads one environment variable: text, flags, numbers, the Auth0 domain and API, the courses file.

Every settings module of ``chalicelib.config`` reads through these, so that each variable is validated
the same way and each message names the variable.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from chalicelib.errors import ConfigurationError

DEFAULT_COURSES_FILE = "chalicelib/courses.json"
# Set by the Lambda runtime in every function, to its name; never by `chalice local`, the test client or ops.
LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"

# Compiled on first use (re keeps it): only a domain that is given needs it, not a private request with
# AUTH0_ISSUER set.
_HOSTNAME = (
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def api_audience(environ: Mapping[str, str]) -> str | None:
    """AUTH0_AUDIENCE: the identifier of the Auth0 API whose access tokens the service accepts and issues."""
    return optional(environ, "AUTH0_AUDIENCE")


def lambda_function_name(environ: Mapping[str, str]) -> str | None:
    """The Lambda function this process runs as (``<stack>-worker``, ...), or None outside AWS Lambda."""
    return optional(environ, LAMBDA_FUNCTION_NAME)


def required(environ: Mapping[str, str], name: str) -> str:
    value = optional(environ, name)
    if value is None:
        raise ConfigurationError(f"{name} is not set")
    return value


def boolean(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false")


def number(environ: Mapping[str, str], name: str, *, default: float, low: float, high: float) -> float:
    raw = optional(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number") from exc
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low:g} and {high:g}")
    return value


def auth0_base_url(value: str, *, variable: str = "AUTH0_DOMAIN") -> str:
    """The tenant's base URL (scheme, host, optional port, no trailing slash) from a tenant domain
    (``example.us.auth0.com``) or a full base URL.

    ``http://`` is allowed only for loopback hosts so that a local stand-in can
    be used; anything else would send the M2M secret in clear text.
    """
    raw = value.strip()
    if not raw:
        raise ConfigurationError(f"{variable} is empty; set it to your tenant domain, e.g. example.us.auth0.com")
    if "://" not in raw:
        if not re.match(_HOSTNAME, raw):
            raise ConfigurationError(
                f"{variable} must be a domain such as example.us.auth0.com or a base URL such as "
                "https://example.us.auth0.com"
            )
        return f"https://{raw.lower()}"
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http"):
        raise ConfigurationError(f"{variable} must use https:// (or http:// for a loopback host)")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{variable} must not contain credentials")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{variable} must be a bare origin without path, query or fragment")
    host = parts.hostname
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"{variable} has an invalid port") from exc
    if not host or not (re.match(_HOSTNAME, host) or _is_ip(host)):
        raise ConfigurationError(f"{variable} has no valid host")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"{variable} uses http:// with a non-loopback host; only 127.0.0.0/8, ::1 and localhost "
            "may be reached without TLS"
        )
    shown_host = f"[{host}]" if ":" in host else host
    # Auth0's issuer never carries a default port: keeping ":443" would make every token's iss mismatch.
    default_port = 443 if parts.scheme == "https" else 80
    netloc = f"{shown_host}:{port}" if port is not None and port != default_port else shown_host
    return f"{parts.scheme}://{netloc.lower()}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_https_url(value: str, variable: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"{variable} must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{variable} must not contain credentials")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(f"{variable} may use http:// only for a loopback host")


def resolve_courses_file(environ: Mapping[str, str], *, app_dir: str | os.PathLike[str]) -> str:
    """The catalogue's path: COURSES_FILE (default chalicelib/courses.json), inside ``app_dir``, the deployed app."""
    # os.path, not pathlib: a private request reads the catalogue on a cold start, and pathlib is a
    # module to load that nothing else on that path needs (docs/internals.md, "Cold start").
    relative = optional(environ, "COURSES_FILE") or DEFAULT_COURSES_FILE
    if os.path.isabs(relative):
        raise ConfigurationError("COURSES_FILE must be relative to the app directory")
    root = os.path.realpath(app_dir)
    if os.path.commonpath([root, os.path.realpath(os.path.join(root, relative))]) != root:
        raise ConfigurationError("COURSES_FILE must stay inside the app directory (only it is deployed)")
    return os.path.join(os.fspath(app_dir), relative)
