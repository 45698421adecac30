"""``/api/v2/clients``: the tenant's applications; those created here sign in and get tokens like the others.

An application created or changed here is registered at once with the token, authorize, logout and
change-password endpoints (they share ``clients``): the SPA ``ops tenant`` creates signs people in
through ``/authorize``, the service's application gets ``client_credentials`` tokens.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from sandbox.errors import ManagementError, payload_error
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response, json_type
from sandbox.management.query import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    boolean_parameter,
    integer_parameter,
    select_fields,
)
from sandbox.tenant.clients import Client, spa_origin
from sandbox.tenant.configuration import random_id
from sandbox.tenant.tenant import Tenant

_LISTS = ("grant_types", "callbacks", "allowed_logout_urls", "web_origins")
_FLAGS = ("oidc_conformant", "is_first_party")
_OBJECTS = ("jwt_configuration", "refresh_token", "client_metadata")
_TEXTS = ("name", "description", "app_type", "token_endpoint_auth_method")


class ClientsApi:
    """List (``fields``, pages), get, create and update applications, in Auth0's client shape."""

    def __init__(self, *, tenant: Tenant, clients: MutableMapping[str, Client]) -> None:
        self._tenant = tenant
        self._clients = clients  # shared with the endpoints that authenticate applications
        for document in tenant.configuration.clients.values():
            clients[document["client_id"]] = as_client(document)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/clients", self.list_clients, ("read:clients",)),
            Route("POST", "/api/v2/clients", self.create, ("create:clients",)),
            Route("GET", "/api/v2/clients/{id}", self.get_client, ("read:clients", "read:client_keys")),
            Route("PATCH", "/api/v2/clients/{id}", self.update, ("update:clients",)),
        ]

    def list_clients(self, request: Request) -> Response:
        per_page = integer_parameter(request, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
        page = integer_parameter(request, "page", default=0, low=0, high=10**6)
        fields, include = request.query_value("fields"), boolean_parameter(request, "include_fields", default=True)
        documents = [_public(document) for document in self._documents()]
        shown = [select_fields(item, fields, include) for item in documents[page * per_page : (page + 1) * per_page]]
        if not boolean_parameter(request, "include_totals", default=False):
            return json_response(200, shown)
        answer = {"start": page * per_page, "limit": per_page, "total": len(documents), "clients": shown}
        return json_response(200, answer)

    def get_client(self, request: Request) -> Response:
        """As Auth0: ``client_secret`` only to a token with ``read:client_keys`` (hidden, not refused, otherwise)."""
        fields, include = request.query_value("fields"), boolean_parameter(request, "include_fields", default=True)
        document = self._document(request.params["id"])
        if "read:client_keys" not in request.scopes:
            document = _public(document)
        return json_response(200, select_fields(document, fields, include))

    def create(self, request: Request) -> Response:
        body = _client_body(request.json_object())
        if not body.get("name"):
            raise payload_error("'Missing required property: name'.")
        document = {
            "client_id": random_id("", 32),
            "client_secret": random_id("", 64),
            "app_type": "regular_web",
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
            "callbacks": [],
            "allowed_logout_urls": [],
            "web_origins": [],
            "oidc_conformant": True,
            "is_first_party": True,
            "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 36000},
            "client_metadata": {},
            **body,
        }
        _check_urls(document)  # before anything is kept
        client = as_client(document)
        with self._tenant.changing():
            self._tenant.configuration.clients[document["client_id"]] = document
            self._clients[client.client_id] = client
        return json_response(201, document)

    def update(self, request: Request) -> Response:
        body = _client_body(request.json_object())
        with self._tenant.changing():
            document = self._tenant.configuration.clients.get(request.params["id"])
            if document is None:
                if request.params["id"] in self._clients:
                    raise payload_error("the sandbox's own applications are changed by its settings, not here")
                raise _not_found()
            changed = {**document, **body}
            if isinstance(body.get("refresh_token"), dict):
                changed["refresh_token"] = {**document.get("refresh_token", {}), **body["refresh_token"]}
            _check_urls(changed)
            client = as_client(changed)
            self._tenant.configuration.clients[client.client_id] = changed
            self._clients[client.client_id] = client
        return json_response(200, changed)

    def _document(self, client_id: str) -> dict[str, Any]:
        document = next((item for item in self._documents() if item["client_id"] == client_id), None)
        if document is None:
            raise _not_found()
        return document

    def _documents(self) -> list[dict[str, Any]]:
        created = self._tenant.configuration.clients
        own = [_settings_document(client) for client_id, client in self._clients.items() if client_id not in created]
        return [*own, *created.values()]


def as_client(document: dict[str, Any]) -> Client:
    """The application as the endpoints that authenticate it see it (public when it has no secret to prove)."""
    public = document.get("token_endpoint_auth_method") == "none"
    try:
        return Client(
            document["client_id"],
            None if public else document["client_secret"],
            tuple(document.get("grant_types", [])),
            callbacks=tuple(document.get("callbacks", [])),
            logout_urls=tuple(document.get("allowed_logout_urls", [])),
            web_origins=tuple(document.get("web_origins", [])),
        )
    except (KeyError, TypeError) as error:
        raise payload_error(f"the application cannot be used: {error}") from None


def _settings_document(client: Client) -> dict[str, Any]:
    """An application the sandbox was started with, named by its id, carrying no metadata."""
    return {
        "client_id": client.client_id,
        "name": client.client_id,
        "app_type": "spa" if client.is_public else "non_interactive",
        "token_endpoint_auth_method": "none" if client.is_public else "client_secret_post",
        "grant_types": list(client.grant_types),
        "callbacks": list(client.callbacks),
        "allowed_logout_urls": list(client.logout_urls),
        "web_origins": list(client.web_origins),
        "client_metadata": {},
    }


def _public(document: dict[str, Any]) -> dict[str, Any]:
    """Without secrets: a list never shows them, ``GET /clients/{id}`` only to ``read:client_keys`` (as Auth0)."""
    return {key: value for key, value in document.items() if key != "client_secret"}


def _client_body(body: dict[str, Any]) -> dict[str, Any]:
    for name, value in body.items():
        expected = list if name in _LISTS else bool if name in _FLAGS else dict if name in _OBJECTS else str
        if name not in (*_LISTS, *_FLAGS, *_OBJECTS, *_TEXTS):
            raise payload_error(f"'Additional properties not allowed: {name}'.")
        if not isinstance(value, expected):
            raise payload_error(f"'Expected type {expected.__name__}' on property {name}.")
        items: list[Any] = value if isinstance(value, list) else []
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise payload_error(
                    f"'Expected type string but found type {json_type(item)}' on property {name}[{index}]."
                )
    return dict(body)


def _check_urls(document: dict[str, Any]) -> None:
    """Callback and logout URLs are absolute (a scheme and a host; http(s) for a public client, which a browser
    follows), web origins are ``scheme://host[:port]``: a ``javascript:`` callback or an origin with a path is a 400."""
    public = document.get("token_endpoint_auth_method") == "none"
    for name in ("callbacks", "allowed_logout_urls"):
        for index, url in enumerate(document.get(name, [])):
            parts = urlsplit(url)
            if not parts.scheme or not parts.netloc or (public and parts.scheme not in ("http", "https")):
                raise payload_error(
                    f"'Object didn't pass validation for format absolute-uri: {url}' on property {name}[{index}]."
                )
    for index, origin in enumerate(document.get("web_origins", [])):
        try:
            spa_origin(origin)
        except ValueError as error:
            raise payload_error(f"'{error}' on property web_origins[{index}].") from None


def _not_found() -> ManagementError:
    return ManagementError(404, "The client does not exist", "inexistent_client")
