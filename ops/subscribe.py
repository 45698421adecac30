"""`ops subscribe list|add|remove`: Gumroad resource subscriptions for the deployed ping URL (secret in userinfo)."""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalicelib.errors import ConfigurationError
from chalicelib.gumroad_api.client import ResourceSubscription
from chalicelib.purchases.gumroad import RESOURCE_NAMES
from chalicelib.purchases.reconcile import NEEDED_RESOURCES
from ops.gumroad import gumroad_api

if TYPE_CHECKING:
    from ops.settings import Settings

# Everything the service acts on, which the scheduled reconciliation checks are subscribed; `sale` only on request:
# the settings-page Ping URL may already send it.
DEFAULT_RESOURCES = NEEDED_RESOURCES
PING_USER = "gumroad"
# RFC 3986 unreserved characters: they survive userinfo unescaped, whatever HTTP client Gumroad uses.
_URL_SAFE_SECRET = re.compile(r"^[A-Za-z0-9._~-]{16,}$")
MASK = "***"

SUBSCRIBE_DOC = """Gumroad resource subscriptions (API v2 webhooks) pointing at the deployed ping URL.

The post URL carries the current ping secret as userinfo (https://gumroad:SECRET@host/...), which
Gumroad sends as HTTP Basic; it is read from the service's secret (AUTH0_SECRET_ID) or
GUMROAD_PING_SECRET and always printed masked. Calls Gumroad with GUMROAD_ACCESS_TOKEN (view_sales).
"""


def add_subscribe(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    subscribe = commands.add_parser(
        "subscribe",
        help="Gumroad resource subscriptions for the ping URL: list, add, remove",
        description=SUBSCRIBE_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = subscribe.add_subparsers(dest="subscribe_command", required=True)
    every = ",".join(RESOURCE_NAMES)

    listing = actions.add_parser("list", help="show live subscriptions of every OAuth application (changes nothing)")
    listing.add_argument("--resources", help=f"comma-separated resource names (default: all of {every})")
    listing.set_defaults(run=run_list)

    add = actions.add_parser(
        "add", help="subscribe the ping URL to each resource not yet subscribed (dry run unless --apply)"
    )
    add.add_argument(
        "--url",
        help="the deployed ping URL, e.g. https://ID.execute-api.REGION.amazonaws.com/api/gumroad/ping "
        "(default: the stack's GumroadPingUrl output, GUMROAD_PING_URL)",
    )
    add.add_argument("--resources", help=f"comma-separated resource names (default: {','.join(DEFAULT_RESOURCES)})")
    add.add_argument(
        "--include-sale",
        action="store_true",
        help="subscribe to `sale` too (if the settings-page Ping URL does not already send sales here)",
    )
    add.add_argument("--apply", action="store_true", help="really subscribe (default: dry run)")
    add.set_defaults(run=run_add)

    remove = actions.add_parser("remove", help="delete this OAuth application's subscriptions (dry run unless --apply)")
    remove.add_argument("--url", help="only those posting to this URL (credentials aside)")
    remove.add_argument("--resources", help=f"comma-separated resource names (default: all of {every})")
    remove.add_argument(
        "--stale", action="store_true", help="keep those carrying the current ping secret (after a rotation)"
    )
    remove.add_argument("--apply", action="store_true", help="really delete (default: dry run)")
    remove.set_defaults(run=run_remove)


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    resources = parse_resources(args.resources) if args.resources else RESOURCE_NAMES
    print(as_table(list_subscriptions(gumroad_api(settings), resources)))
    return 0


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    url = endpoint(args.url or settings.ping_url())
    resources = parse_resources(args.resources, include_sale=args.include_sale)
    api = gumroad_api(settings)
    secret = ping_secret(settings)
    print(as_table(add_subscriptions(api, url=url, secret=secret, resources=resources, apply=args.apply)))
    return 0


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    url = endpoint(args.url) if args.url else None
    resources = parse_resources(args.resources) if args.resources else RESOURCE_NAMES
    api = gumroad_api(settings)
    keep = ping_secret(settings) if args.stale else None
    print(as_table(remove_subscriptions(api, url=url, resources=resources, keep_secret=keep, apply=args.apply)))
    return 0


def ping_secret(settings: Settings) -> str:
    """The ping secret pings must carry now: the first of the service's, read as the service reads it."""
    from chalicelib import wiring

    settings.require_credentials()
    return wiring.get_credentials().get().gumroad_ping_secrets[0]


class SubscriptionsApi(Protocol):
    def resource_subscriptions(
        self, resource_name: str, *, this_application_only: bool = False
    ) -> list[ResourceSubscription]: ...

    def subscribe(self, resource_name: str, post_url: str) -> ResourceSubscription: ...

    def unsubscribe(self, subscription_id: str) -> None: ...


@dataclass(frozen=True)
class Line:
    """One row of a report: a subscription and what was (or would be) done with it."""

    resource_name: str
    action: str
    post_url: str  # always masked
    subscription_id: str = ""


def parse_resources(text: str | None, *, include_sale: bool = False) -> tuple[str, ...]:
    """``refund,dispute`` -> the names, validated against Gumroad's list; None -> the defaults."""
    names = DEFAULT_RESOURCES if text is None else tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(names) - set(RESOURCE_NAMES))
    if unknown or not names:
        raise ConfigurationError(f"--resources takes names from: {', '.join(RESOURCE_NAMES)} (got {unknown or 'none'})")
    if include_sale and "sale" not in names:
        names = ("sale", *names)
    return tuple(dict.fromkeys(names))


def endpoint(url: str) -> str:
    """The URL Gumroad will post to, validated: https, a public host, no credentials, query or fragment."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigurationError("--url is not a valid URL") from None
    if parts.scheme != "https":
        raise ConfigurationError("--url must start with https:// (the ping secret travels in it)")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "--url must not contain credentials: the ping secret is added from the service's secret"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError("--url must not have a query or a fragment")
    host = parts.hostname or ""
    if not host or host == "localhost" or _is_private_address(host):
        raise ConfigurationError(
            "--url must name a public host: Gumroad does not post to localhost or private addresses"
        )
    return urlunsplit(("https", parts.netloc.lower(), parts.path or "/", "", ""))


def with_secret(url: str, secret: str) -> str:
    """``https://host/path`` -> ``https://gumroad:SECRET@host/path`` (Gumroad sends it as HTTP Basic)."""
    if not _URL_SAFE_SECRET.match(secret):
        raise ConfigurationError(
            "the ping secret must be at least 16 URL-safe characters (letters, digits, '-', '_', '.', '~') to travel "
            "in a URL; rotate it to one made by: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    parts = urlsplit(endpoint(url))
    return urlunsplit((parts.scheme, f"{PING_USER}:{secret}@{parts.netloc}", parts.path, "", ""))


def mask(url: str) -> str:
    """A post URL fit to print: the userinfo password and every query value replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:{MASK}@{netloc.rpartition('@')[2]}"
        elif "@" in netloc:
            netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
        query = urlencode([(key, MASK) for key, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, MASK if parts.fragment else ""))
    except ValueError:
        return MASK


def same_endpoint(post_url: str, url: str) -> bool:
    """Whether ``post_url`` posts to ``url`` (credentials aside)."""
    try:
        parts = urlsplit(post_url)
    except ValueError:
        return False
    host = parts.netloc.rpartition("@")[2].lower()
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", "", "")) == url and not parts.query


def carries_secret(post_url: str, secret: str) -> bool:
    try:
        return urlsplit(post_url).password == secret
    except ValueError:
        return False


def list_subscriptions(api: SubscriptionsApi, resources: Iterable[str]) -> list[Line]:
    """Every live subscription to ``resources``, of any OAuth application of the account."""
    return [
        Line(item.resource_name, "registered", mask(item.post_url), item.id)
        for resource in resources
        for item in api.resource_subscriptions(resource)
    ]


def add_subscriptions(
    api: SubscriptionsApi, *, url: str, secret: str, resources: Sequence[str], apply: bool
) -> list[Line]:
    """Subscribe ``url`` (with ``secret`` in its userinfo) to each resource it is not yet subscribed to.

    "Already subscribed" means the very same post URL, secret included; a subscription to the
    same endpoint with another secret (left by a rotation) is reported, not touched.
    """
    target = endpoint(url)
    post_url = with_secret(target, secret)
    report: list[Line] = []
    for resource in resources:
        existing = api.resource_subscriptions(resource)
        mine = [item for item in existing if item.post_url == post_url]
        if mine:
            report.append(Line(resource, "already registered", mask(post_url), mine[0].id))
        elif not apply:
            report.append(Line(resource, "would register (dry run; add --apply)", mask(post_url)))
        else:
            created = api.subscribe(resource, post_url)
            report.append(Line(resource, "registered", mask(created.post_url), created.id))
        for item in existing:
            if (
                item.post_url != post_url
                and same_endpoint(item.post_url, target)
                and not carries_secret(item.post_url, secret)
            ):
                report.append(
                    Line(
                        resource,
                        "also registered with another secret (remove with --stale)",
                        mask(item.post_url),
                        item.id,
                    )
                )
    return report


def remove_subscriptions(
    api: SubscriptionsApi,
    *,
    url: str | None,
    resources: Sequence[str],
    keep_secret: str | None,
    apply: bool,
) -> list[Line]:
    """Delete this OAuth application's subscriptions to ``resources``.

    ``url`` limits it to one endpoint; ``keep_secret`` (``--stale``) keeps those that carry the
    current ping secret, so only the ones a rotation left behind go.
    """
    target = endpoint(url) if url else None
    report: list[Line] = []
    for resource in resources:
        for item in api.resource_subscriptions(resource, this_application_only=True):
            if target is not None and not same_endpoint(item.post_url, target):
                continue
            if keep_secret is not None and carries_secret(item.post_url, keep_secret):
                report.append(Line(resource, "kept (current secret)", mask(item.post_url), item.id))
                continue
            if apply:
                api.unsubscribe(item.id)
                report.append(Line(resource, "removed", mask(item.post_url), item.id))
            else:
                report.append(Line(resource, "would remove (dry run; add --apply)", mask(item.post_url), item.id))
    return report


def as_table(lines: Sequence[Line]) -> str:
    if not lines:
        return "(no resource subscriptions)"
    rows = [("RESOURCE", "ACTION", "ID", "POST URL")] + [
        (line.resource_name, line.action, line.subscription_id or "-", line.post_url) for line in lines
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join(value.ljust(width) for value, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    )


def _is_private_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global
