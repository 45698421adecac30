"""``POST /dbconnections/signup``: anyone registers an address with a password of their own, unless sign-ups are off."""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.errors import SignupError
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response, text_parameter
from sandbox.tenant.clients import Client
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


class SignupEndpoint:
    """``client_id``, ``email``, ``password``, ``connection``; 200 ``{_id, email_verified, email}``.

    The public sign-up a squatter would use: it is why the service's database connection should have
    "Disable Sign Ups" on (``ops check`` warns otherwise) and why the service never grants to an
    unverified database user it did not create.
    """

    def __init__(self, *, tenant: Tenant, site: Site, clients: Mapping[str, Client]) -> None:
        self._tenant = tenant
        self._site = site
        self._clients = clients  # live: applications created through /api/v2/clients too

    def routes(self) -> list[Route]:
        return [Route("POST", "/dbconnections/signup", self.sign_up)]

    def sign_up(self, request: Request) -> Response:
        body = request.form_or_json()
        for name in ("client_id", "email", "password", "connection"):
            if not text_parameter(body, name):
                raise SignupError(400, "invalid_signup", f"Missing required parameter: {name}")
        if str(text_parameter(body, "client_id")) not in self._clients:
            raise SignupError(400, "invalid_signup", "Unknown client.")
        user = self._tenant.methods.sign_up(
            email=str(text_parameter(body, "email")),
            password=str(text_parameter(body, "password")),
            connection=str(text_parameter(body, "connection")),
            base_url=self._site.base_url,
        )
        return json_response(200, {"_id": user.local_id, "email_verified": user.email_verified, "email": user.email})
