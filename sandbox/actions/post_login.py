"""The post-login trigger: the event Auth0 documents, the bound Actions run in order, and what they changed.

It runs for every login (the login page, Google, a passwordless code, a live session) and every token
the password or refresh-token grants issue. ``event.transaction.protocol`` says which
(``oidc-basic-profile``, ``oauth2-password``, ``oauth2-refresh-token``).

Permissions are the ones the user held **when the login started**: the reading of Auth0 that makes a
role assigned during the login (or a user linked into another) absent from this login's access token, so
the example app's "renew once" path is what the tests exercise.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from sandbox.actions.runner import ActionFailed, NodeRunner
from sandbox.errors import ManagementError
from sandbox.http.wire import Request
from sandbox.tenant.actions import POST_LOGIN
from sandbox.tenant.sign_ins import Authorization
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.users import UserRecord, timestamp

BROWSER = "oidc-basic-profile"
PASSWORD_EXCHANGE = "oauth2-password"  # noqa: S105 - a protocol name
REFRESH = "oauth2-refresh-token"
# event.authentication.methods[].name for the first factor of each strategy.
_METHOD = {"auth0": "pwd", "email": "email"}


class LoginRefused(Exception):
    """An Action denied the login or failed: ``error``/``description`` go back to the application."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.error = "access_denied"
        self.description = description


@dataclass(frozen=True)
class LoginContext:
    """A login that got as far as the post-login trigger."""

    user: UserRecord  # who the credentials signed in as
    connection: str  # the connection of the identity that was used
    client_id: str
    protocol: str
    scope: str
    audience: str | None
    request: Request
    authorization: Authorization | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class LoginOutcome:
    """What the tokens of this login carry."""

    user_id: str
    permissions: tuple[str, ...]
    scope: str
    id_claims: dict[str, Any] = field(default_factory=dict)
    access_claims: dict[str, Any] = field(default_factory=dict)


class PostLoginTrigger:
    def __init__(self, *, tenant: Tenant, site: Site, runner: NodeRunner) -> None:
        self._tenant = tenant
        self._site = site
        self._runner = runner

    def run(self, context: LoginContext) -> LoginOutcome:
        """Run the bound Actions in order; raise LoginRefused when one denies or fails."""
        outcome = LoginOutcome(
            user_id=context.user.user_id,
            permissions=tuple(self._tenant.permissions_of(context.user)),
            scope=context.scope,
        )
        for action in self._tenant.actions.bound(POST_LOGIN):
            event = self.event(context, secrets=action.secrets)
            try:
                execution = self._runner.run(action, event)
            except ActionFailed as failed:
                raise LoginRefused(failed.message) from None
            outcome = self._apply(context, outcome, execution.commands)
        self._check_subject(context, outcome)
        return outcome

    def event(self, context: LoginContext, *, secrets: dict[str, str]) -> dict[str, Any]:
        """``event`` as Auth0 documents it (tests/fixtures/auth0/post_login_event.json), for this login."""
        user = context.user
        connection = self._tenant.connections.get(context.connection)
        event: dict[str, Any] = {
            "authentication": {
                "methods": [
                    {
                        "name": _METHOD.get(connection.strategy if connection else "", "federated"),
                        "timestamp": timestamp(),
                    }
                ]
            },
            "authorization": {"roles": [role.name for role in self._tenant.roles_of(user)]},
            "client": {"client_id": context.client_id, "metadata": {}, "name": context.client_id},
            "connection": {
                "id": connection.id if connection else "",
                "metadata": {},
                "name": context.connection,
                "strategy": connection.strategy if connection else context.connection,
            },
            "request": self._request(context),
            "secrets": dict(secrets),
            "stats": {"logins_count": user.logins_count},
            "tenant": {"id": "sandbox"},
            "transaction": self._transaction(context),
            "user": {"app_metadata": {}, "user_metadata": {}, **self._tenant.view(user)},
        }
        if context.audience is not None:
            event["resource_server"] = {"identifier": context.audience}
        if context.session_id is not None:
            event["session"] = {"id": context.session_id}
        return event

    def _request(self, context: LoginContext) -> dict[str, Any]:
        request = context.request
        query = {name: values[0] for name, values in request.query.items() if values}
        return {
            "body": {},
            "geoip": {},
            "hostname": self._site.base_url.split("://", 1)[1],
            "ip": request.client_ip,
            "language": "en",
            "method": request.method,
            "query": query,
            "user_agent": request.header("user-agent") or "",
        }

    def _transaction(self, context: LoginContext) -> dict[str, Any]:
        transaction: dict[str, Any] = {
            "id": secrets.token_urlsafe(24),
            "locale": "en",
            "protocol": context.protocol,
            "requested_scopes": context.scope.split(),
            "ui_locales": [],
            "metadata": {},
        }
        authorization = context.authorization
        if authorization is not None:
            transaction.update(
                redirect_uri=authorization.redirect_uri,
                response_mode=authorization.response_mode,
                response_type=["code"],
                **({"state": authorization.state} if authorization.state is not None else {}),
                **({"login_hint": authorization.login_hint} if authorization.login_hint else {}),
            )
        return transaction

    def _apply(self, context: LoginContext, outcome: LoginOutcome, commands: list[list[Any]]) -> LoginOutcome:
        id_claims, access_claims = dict(outcome.id_claims), dict(outcome.access_claims)
        user_id = outcome.user_id
        for command in commands:
            kind, arguments = command[0], command[1:]
            if kind == "deny":
                raise LoginRefused(str(arguments[0]))
            if kind == "id_claim":
                id_claims[str(arguments[0])] = arguments[1]
            elif kind == "access_claim":
                access_claims[str(arguments[0])] = arguments[1]
            elif kind == "primary_user":
                user_id = self._primary(context, str(arguments[0]))
            elif kind in ("app_metadata", "user_metadata"):
                target = self._tenant.account(user_id).user_id
                self._tenant.update_user(target, {kind: {str(arguments[0]): arguments[1]}})
        return replace(outcome, user_id=user_id, id_claims=id_claims, access_claims=access_claims)

    def _primary(self, context: LoginContext, primary_id: str) -> str:
        """Auth0's rule: the identity that authenticated must now be one of the primary's secondary identities."""
        try:
            account = self._tenant.account(context.user.user_id)
        except ManagementError:
            account = None
        if account is None or account.user_id != primary_id or primary_id == context.user.user_id:
            raise LoginRefused(
                "setPrimaryUser: the identity used to log in is not a secondary identity of that primary user"
            )
        return primary_id

    def _check_subject(self, context: LoginContext, outcome: LoginOutcome) -> None:
        """A login whose user was linked into another during the Action, and not switched to it, has no user."""
        if outcome.user_id == context.user.user_id:
            try:
                self._tenant.user(outcome.user_id)
            except ManagementError:
                raise LoginRefused("Unable to construct login user") from None
