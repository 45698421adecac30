"""What `ops tenant` wants of the tenant, from the stage's settings, its catalogue, its options and the
repository's post-login Action (read here; ``model.desired_state`` shapes it)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.config.environment import require_https_url
from chalicelib.errors import ConfigurationError
from ops.errors import InvalidOption, NotConfigured

if TYPE_CHECKING:
    from ops.settings import Settings
    from ops.tenant.model import ActionSpec, Desired

ROOT = Path(__file__).resolve().parents[2]
POST_LOGIN_ACTION = ROOT / "actions" / "post-login.js"
LOCAL_API_URL = "http://127.0.0.1:8000"  # where `make run` serves the local stage
POST_LOGIN_ROUTE = "/auth0/post-login"


def desired_for(
    args: argparse.Namespace, settings: Settings, catalogue: Path, management_audience: str, action: ActionSpec
) -> Desired:
    from chalicelib.catalogue import load_catalogue
    from ops.tenant.checks import REQUIRED_SCOPES
    from ops.tenant.model import Course, StageNeeds, desired_state

    audience = settings.api_audience()
    if audience is None:
        raise NotConfigured("AUTH0_AUDIENCE (the API's identifier) is not set for the stage")
    try:
        courses = tuple(Course(c.slug, c.title, c.permission, c.role_id) for c in load_catalogue(catalogue))
    except ConfigurationError as error:
        raise NotConfigured(f"{shown_path(catalogue)}: {error.message}") from None
    spa_urls = tuple(spa_origin(url) for url in args.spa_url) or settings.spa_urls()
    onboarding = settings.onboarding_client_id()
    return desired_state(
        StageNeeds(
            stage=str(settings.stage),
            audience=audience,
            management_audience=management_audience,
            connection=settings.connection(),
            courses=courses,
            spa_urls=spa_urls,
            token_lifetime=settings.max_token_lifetime(args.token_lifetime, option="--token-lifetime"),
            service_scopes=REQUIRED_SCOPES,
            login=settings.login_on(),
            other_connection_clients=(onboarding,) if onboarding else (),
            action=action,
        )
    )


def post_login_action(args: argparse.Namespace, settings: Settings, stored: Mapping[str, str]) -> ActionSpec:
    """The post-login Action: the repository's code; the service's URL; the secret the service holds (the stored
    copy, else the stage's POST_LOGIN_SECRET, else a new one that apply stores with the credentials)."""
    import secrets

    from ops.tenant.model import (
        ACTION_RUNTIME,
        POST_LOGIN_SECRET,
        POST_LOGIN_SECRET_KEY,
        POST_LOGIN_URL,
        ActionSpec,
        resource_name,
    )

    base: str | None = service_url(args.api_url) if args.api_url is not None else settings.api_url()
    if base is None and settings.stage == "local":
        base = LOCAL_API_URL
    if base is None:
        raise NotConfigured(
            "where is the service? The post-login Action calls it: pass --stack <your stack name> (its EndpointURL "
            "output) or --api-url URL"
        )
    known = stored.get(POST_LOGIN_SECRET_KEY) or settings.post_login_secret()
    shared = known or secrets.token_hex(32)
    return ActionSpec(
        name=resource_name(str(settings.stage), "post-login"),
        code=POST_LOGIN_ACTION.read_text(encoding="utf-8"),
        runtime=ACTION_RUNTIME,
        secrets={POST_LOGIN_URL: base.rstrip("/") + POST_LOGIN_ROUTE, POST_LOGIN_SECRET: shared},
        secret_is_new=not known,
    )


def service_url(url: str) -> str:
    """``--api-url``: https, or http to a loopback host (the Action refuses any other)."""
    from urllib.parse import urlsplit

    try:
        require_https_url(url, "--api-url")
    except ConfigurationError as error:
        raise InvalidOption(error.message) from None
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise InvalidOption(f"--api-url is the service's base URL, not {url!r}")
    return url


def spa_origin(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        require_https_url(url, "--spa-url")
    except ConfigurationError as error:
        raise InvalidOption(error.message) from None
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidOption(f"--spa-url is the SPA's origin (scheme, host, port), not {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def shown_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
