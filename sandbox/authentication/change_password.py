"""``POST /dbconnections/change_password``: a one-time ticket in the outbox; the same answer for any address."""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.errors import OAuthError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, text_parameter, text_response
from sandbox.tenant.clients import Client
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant

CHANGE_PASSWORD_ANSWER = "We've just sent you an email to reset your password."  # noqa: S105 - Auth0's text


class ChangePasswordEndpoint:
    """Auth0's Database connection endpoint: ``client_id``, ``email`` and ``connection`` are required."""

    def __init__(self, *, tenant: Tenant, site: Site, clients: Mapping[str, Client]) -> None:
        self._tenant = tenant
        self._site = site
        self._clients = clients  # live: applications created through /api/v2/clients too

    def routes(self) -> list[Route]:
        return [Route("POST", "/dbconnections/change_password", self.change_password)]

    def change_password(self, request: Request) -> Response:
        body = request.form_or_json()
        for name in ("client_id", "email", "connection"):
            if not text_parameter(body, name):
                raise OAuthError(400, "invalid_request", f"Missing required parameter: {name}")
        client_id = str(text_parameter(body, "client_id"))
        if client_id not in self._clients:
            raise OAuthError(400, "invalid_request", "Unknown client.")
        if text_parameter(body, "connection") != self._tenant.connection:
            raise OAuthError(400, "invalid_request", "connection not found")
        self._tenant.request_password_reset(
            str(text_parameter(body, "email")), client_id=client_id, base_url=self._site.base_url
        )
        return text_response(200, CHANGE_PASSWORD_ANSWER)
