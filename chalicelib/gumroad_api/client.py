"""Gumroad's API v2: subscriptions, sales and products, for the scheduled reconciliation and the operator commands.

Imported only by the reconciliation function and ``ops``: the ping and private routes never load it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from chalicelib.config.reconcile_settings import GUMROAD_ACCESS_TOKEN
from chalicelib.errors import GumroadApiError

API_BASE = "https://api.gumroad.com"

# Sales::index answers ten sales a page; a runaway cursor must not loop for ever.
MAX_PAGES = 100_000
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ResourceSubscription:
    """``ResourceSubscription#as_json``: ``{"id", "resource_name", "post_url"}``."""

    id: str
    resource_name: str
    post_url: str

    @classmethod
    def from_json(cls, document: Any) -> ResourceSubscription:
        if not isinstance(document, Mapping):
            raise GumroadApiError("Gumroad answered a resource subscription that is not an object")
        values = [document.get(name) for name in ("id", "resource_name", "post_url")]
        if not all(isinstance(value, str) for value in values):
            raise GumroadApiError("Gumroad answered a resource subscription without id, resource_name or post_url")
        return cls(id=str(values[0]), resource_name=str(values[1]), post_url=str(values[2]))


class GumroadApi:
    """A small client for ``https://api.gumroad.com/v2``, authenticated with an OAuth bearer token.

    The token goes in the ``Authorization`` header (never in a URL, where proxies and logs keep
    it). Reads are retried briefly on 429 and 5xx; writes are not: ``PUT /resource_subscriptions``
    creates a new subscription every time it is called.
    """

    def __init__(
        self,
        *,
        access_token: str,
        session: requests.Session | None = None,
        base_url: str = API_BASE,
        timeout: float = 20.0,
        read_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = access_token
        self._session = session or requests.Session()
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._read_attempts = read_attempts
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"GumroadApi(base_url={self._base_url!r}, token=<redacted>)"

    def resource_subscriptions(
        self, resource_name: str, *, this_application_only: bool = False
    ) -> list[ResourceSubscription]:
        """``GET /v2/resource_subscriptions``: the live subscriptions to one resource.

        Gumroad lists those of every OAuth application of the account unless
        ``current_oauth_application_only`` is set; only the token's own application may delete one.
        """
        params = {"resource_name": resource_name}
        if this_application_only:
            params["current_oauth_application_only"] = "true"
        body = self._read("/v2/resource_subscriptions", params)
        items = body.get("resource_subscriptions")
        if not isinstance(items, list):
            raise GumroadApiError("Gumroad answered without resource_subscriptions")
        return [ResourceSubscription.from_json(item) for item in items]

    def subscribe(self, resource_name: str, post_url: str) -> ResourceSubscription:
        """``PUT /v2/resource_subscriptions``: Gumroad will POST ``resource_name`` events to ``post_url``."""
        body = self._send(
            "PUT", "/v2/resource_subscriptions", data={"resource_name": resource_name, "post_url": post_url}
        )
        return ResourceSubscription.from_json(body.get("resource_subscription"))

    def unsubscribe(self, subscription_id: str) -> None:
        """``DELETE /v2/resource_subscriptions/:id``."""
        self._send("DELETE", f"/v2/resource_subscriptions/{quote(subscription_id, safe='')}")

    def user(self) -> dict[str, Any]:
        """``GET /v2/user``: the token's own account (``User#as_json``).

        Its ``user_id`` is ``ObfuscateIds.encrypt(id)``, the value every ping carries as ``seller_id``.
        """
        body = self._read("/v2/user", {})
        user = body.get("user")
        if not isinstance(user, dict):
            raise GumroadApiError("Gumroad answered GET /v2/user without a user")
        return user

    def products(self) -> list[dict[str, Any]]:
        """``GET /v2/products``: the account's products, newest first (``Link#as_json`` with an API scope).

        Each product's ``id`` is the ``product_id`` its pings carry. Gumroad pages the list (ten a page,
        ``next_page_key`` while more remain); the pages are read to the end.
        """
        return [product for page in self._pages("/v2/products", {}, "products") for product in page]

    def sales_pages(
        self, *, product_id: str, after: str | None = None, before: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """``GET /v2/sales`` for one product, newest first, one page (ten sales) at a time.

        Pages follow ``next_page_key``, which Gumroad adds only while more sales remain.
        """
        params = {"product_id": product_id}
        if after:
            params["after"] = after
        if before:
            params["before"] = before
        yield from self._pages("/v2/sales", params, "sales", too_many="narrow the range with --after/--before")

    def _pages(
        self, path: str, params: dict[str, str], key: str, *, too_many: str = ""
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page's ``key`` list, following ``next_page_key`` (which Gumroad adds only while more remain)."""
        seen_keys: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._read(path, params)
            page = body.get(key)
            if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
                raise GumroadApiError(f"Gumroad answered GET {path} without a list of {key}")
            yield page
            next_key = _next_page_key(body, seen_keys)
            if next_key is None:
                return
            params = {**params, "page_key": next_key}
        raise GumroadApiError(f"more than {MAX_PAGES} pages of {key}" + (f"; {too_many}" if too_many else ""))

    def _read(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send("GET", path, params=params)
            except _Transient as exc:
                if attempt >= self._read_attempts:
                    raise GumroadApiError(exc.message) from None
                self._sleep(float(attempt))

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self._session.request(
                method,
                f"{self._base_url}{path}",
                params=params,
                data=data,
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _Transient(f"Gumroad's API is unreachable ({type(exc).__name__})") from None
        return _answer(method, path, response)


def _next_page_key(body: Mapping[str, Any], seen_keys: set[str]) -> str | None:
    """The cursor of the next page, which Gumroad adds only while more remain; a cursor seen before stops the loop."""
    next_key = body.get("next_page_key")
    if not isinstance(next_key, str) or not next_key:
        return None
    if next_key in seen_keys:
        raise GumroadApiError("Gumroad answered the same next_page_key twice; stopping")
    seen_keys.add(next_key)
    return next_key


class _Transient(GumroadApiError):
    """A failure worth one more try (reads only)."""


def _answer(method: str, path: str, response: requests.Response) -> dict[str, Any]:
    where = f"{method} {path}"
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if status == 401:
        raise GumroadApiError(f"Gumroad refused the access token ({where}: 401); check {GUMROAD_ACCESS_TOKEN}")
    if status == 403:
        raise GumroadApiError(f"Gumroad says the access token lacks the view_sales scope ({where}: 403)")
    if status in _RETRY_STATUSES:
        raise _Transient(f"Gumroad answered {status} to {where}; try again later")
    if not isinstance(body, dict):
        raise GumroadApiError(f"Gumroad answered {where} with {status} and no JSON object")
    # Gumroad reports most failures as HTTP 200 with "success": false (Api::V2::BaseController).
    if status >= 400 or body.get("success") is False:
        message = body.get("message") or body.get("error") or f"HTTP {status}"
        raise GumroadApiError(f"Gumroad refused {where}: {message}")
    return body
