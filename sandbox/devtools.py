"""Dev-only endpoints under ``/sandbox/``: inspect the tenant, get tokens, set limits and faults."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request, user_not_found
from sandbox.http.faults import FaultPlan, parse_fault
from sandbox.http.rate_limit import RateLimiter
from sandbox.http.routing import Route
from sandbox.http.stats import Stats
from sandbox.http.wire import Request, Response, empty_response, json_response, json_type
from sandbox.tenant.seeding import seed_user
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import DEFAULT_USER_SCOPE, TokenIssuer, user_access_token
from sandbox.tenant.users import UserRecord


class DevToolsApi:
    def __init__(
        self,
        *,
        tenant: Tenant,
        site: Site,
        issuer: TokenIssuer,
        limiter: RateLimiter,
        faults: FaultPlan,
        stats: Stats,
        login_client_id: str,
        token_lifetime: int,
    ) -> None:
        self._tenant = tenant
        self._site = site
        self._issuer = issuer
        self._limiter = limiter
        self._faults = faults
        self._stats = stats
        self._login_client_id = login_client_id
        self._lifetime = token_lifetime

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/sandbox/users", self.list_users),
            Route("POST", "/sandbox/users", self.seed_user),
            Route("GET", "/sandbox/state", self.state),
            Route("GET", "/sandbox/outbox", self.outbox),
            Route("GET", "/sandbox/set-password", self.describe_ticket),
            Route("POST", "/sandbox/set-password", self.set_password),
            Route("POST", "/sandbox/token", self.token),
            Route("GET", "/sandbox/config", self.config),
            Route("POST", "/sandbox/config", self.configure),
            Route("GET", "/sandbox/faults", self.list_faults),
            Route("POST", "/sandbox/faults", self.add_fault),
            Route("DELETE", "/sandbox/faults", self.clear_faults),
            Route("GET", "/sandbox/stats", self.stats),
            Route("DELETE", "/sandbox/stats", self.reset_stats),
            Route("POST", "/sandbox/reset", self.reset),
        ]

    def list_users(self, request: Request) -> Response:
        return json_response(200, {"users": self._tenant.describe()["users"]})

    def seed_user(self, request: Request) -> Response:
        body = _only(
            request.json_object(), {"email", "connection", "password", "roles", "app_metadata", "email_verified"}
        )
        roles = body.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise bad_request("roles must be a list of role ids")
        app_metadata = body.get("app_metadata")
        if app_metadata is not None and not isinstance(app_metadata, dict):
            raise bad_request("app_metadata must be an object")
        verified = body.get("email_verified")
        if verified is not None and not isinstance(verified, bool):
            raise bad_request("email_verified must be true or false")
        user = seed_user(
            self._tenant,
            email=_string(body, "email"),
            connection=_string(body, "connection", default=self._tenant.connection),
            password=_optional_string(body, "password"),
            role_ids=roles,
            app_metadata=app_metadata,
            email_verified=verified,
        )
        return json_response(201, self._tenant.describe_user(user))

    def state(self, request: Request) -> Response:
        return json_response(
            200,
            {
                "base_url": self._site.base_url,
                "issuer": self._site.issuer,
                "api_audience": self._site.api_audience,
                "management_audience": self._site.management_audience,
                "config": self._config(),
                "faults": self._faults.describe(),
                "sign_ins": self._tenant.sign_ins.counts(),
                "connections": [connection.to_auth0() for connection in self._tenant.connections.values()],
                "actions": self._tenant.actions.describe(),
                **self._tenant.describe(),
            },
        )

    def outbox(self, request: Request) -> Response:
        recipient = request.query_value("to")
        messages = [
            message
            for message in self._tenant.describe()["outbox"]
            if recipient is None or message.get("to") == recipient.strip().lower()
        ]
        return json_response(200, {"messages": messages})

    def describe_ticket(self, request: Request) -> Response:
        """What a ``ticket_url`` from the outbox shows: whose ticket it is and how to use it."""
        ticket = request.query_value("ticket")
        if not ticket:
            raise bad_request("ticket is required", "invalid_query_string")
        user, expires_at = self._tenant.ticket_holder(ticket)
        return json_response(
            200,
            {
                "email": user.email,
                "expires_at": expires_at,
                "set_password": {
                    "method": "POST",
                    "url": f"{self._site.base_url}/sandbox/set-password",
                    "json": {"ticket": ticket, "password": "<a new password, at least 8 characters>"},
                },
            },
        )

    def set_password(self, request: Request) -> Response:
        body = _only(request.json_object(), {"email", "ticket", "password"})
        ticket = _optional_string(body, "ticket") or request.query_value("ticket")
        email = _optional_string(body, "email")
        if (ticket is None) == (email is None):
            raise bad_request("give either a ticket (from the outbox) or an email, with a password")
        user = self._tenant.set_password(password=_string(body, "password"), email=email, ticket=ticket)
        return json_response(200, {"user_id": user.user_id, "email": user.email, "email_verified": user.email_verified})

    def token(self, request: Request) -> Response:
        body = _only(request.json_object(), {"email", "scope"})
        user = self._find_user(_string(body, "email"))
        token, scope = user_access_token(
            self._issuer,
            self._tenant,
            self._site,
            user,
            client_id=self._login_client_id,
            scope=_string(body, "scope", default=DEFAULT_USER_SCOPE),
            lifetime=self._lifetime,
        )
        return json_response(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": self._lifetime, "scope": scope}
        )

    def _find_user(self, email: str) -> UserRecord:
        user = self._tenant.database_user(email)
        if user is None:
            others = self._tenant.users_by_email(email.strip().lower())
            if not others:
                raise user_not_found()
            user = others[0]
        return user

    def config(self, request: Request) -> Response:
        return json_response(200, self._config())

    def configure(self, request: Request) -> Response:
        body = _only(request.json_object(), {"rate_limit", "burst"})
        if "rate_limit" not in body:
            raise bad_request("rate_limit is required (a number of requests per second, or null to disable)")
        rate, burst = body["rate_limit"], body.get("burst")
        if rate is not None and (json_type(rate) not in ("integer", "number") or not 0 < rate <= 10_000):
            raise bad_request("rate_limit must be a positive number of requests per second, or null")
        if burst is not None and (json_type(burst) != "integer" or not 1 <= burst <= 100_000):
            raise bad_request("burst must be a positive integer")
        self._limiter.configure(None if rate is None else float(rate), burst)
        return json_response(200, self._config())

    def _config(self) -> dict[str, Any]:
        settings = self._limiter.settings
        rate, burst = settings if settings is not None else (None, None)
        return {"rate_limit": rate, "burst": burst, "token_lifetime_seconds": self._lifetime}

    def list_faults(self, request: Request) -> Response:
        return json_response(200, {"faults": self._faults.describe()})

    def add_fault(self, request: Request) -> Response:
        self._faults.add(parse_fault(request.json_object()))
        return json_response(201, {"faults": self._faults.describe()})

    def clear_faults(self, request: Request) -> Response:
        self._faults.clear()
        return empty_response(204)

    def stats(self, request: Request) -> Response:
        return json_response(200, self._stats.snapshot())

    def reset_stats(self, request: Request) -> Response:
        self._stats.reset()
        return empty_response(204)

    def reset(self, request: Request) -> Response:
        """Users, outbox, tickets and logins go; so do faults and counters. Roles and key stay."""
        self._tenant.reset()
        self._faults.clear()
        self._stats.reset()
        return empty_response(204)


def _only(body: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(f"unknown properties: {', '.join(unknown)}")
    return body


def _string(body: dict[str, Any], name: str, *, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name} is required and must be a non-empty string")
    return value


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    if body.get(name) is None:
        return None
    return _string(body, name)
