"""Every Auth0 surface's routes for one served tenant: the Management API, the Authentication API, the browser flow.

The post-login trigger is shared by the three places a login ends: the browser flow (``/authorize`` and its
pages), the password-realm grant and the refresh-token grant.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from sandbox.actions.post_login import PostLoginTrigger
from sandbox.actions.runner import NodeRunner
from sandbox.authentication.change_password import ChangePasswordEndpoint
from sandbox.authentication.client_credentials import ClientCredentialsGrant
from sandbox.authentication.discovery import Discovery
from sandbox.authentication.password_realm import PasswordRealmGrant
from sandbox.authentication.signup import SignupEndpoint
from sandbox.authentication.token import Grant, TokenEndpoint
from sandbox.defaults import AUTHORIZATION_CODE_GRANT, CLIENT_CREDENTIALS_GRANT, PASSWORD_GRANT, REFRESH_TOKEN_GRANT
from sandbox.http.routing import Route
from sandbox.management.surface import management_routes
from sandbox.oidc.authorization_code import AuthorizationCodeGrant
from sandbox.oidc.authorize import AuthorizeEndpoint
from sandbox.oidc.completion import LoginCompletion
from sandbox.oidc.forgot_password import ForgotPasswordPage
from sandbox.oidc.google import GoogleStandIn
from sandbox.oidc.login import LoginPage
from sandbox.oidc.logout import LogoutEndpoints
from sandbox.oidc.password_reset import PasswordResetPage
from sandbox.oidc.passwordless import PasswordlessEmail
from sandbox.oidc.refresh_token import RefreshTokenGrant
from sandbox.oidc.token_answer import TokenAnswer
from sandbox.oidc.userinfo import UserinfoEndpoint
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.clients import Client
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.tokens import TokenIssuer


@dataclass(frozen=True)
class Surfaces:
    tenant: Tenant
    clients: MutableMapping[str, Client]  # live: applications created through /api/v2/clients join it
    grants: ClientGrants
    token_lifetime: int  # M2M tokens
    access_token_lifetime: int  # people's tokens for the API
    action_runner: NodeRunner
    sign_in_url: str  # where "Password changed" leads: the first SPA origin
    bare: bool = False  # serve --bare: the Management API serves only what it made

    def routes(self, site: Site, issuer: TokenIssuer) -> list[Route]:
        trigger = PostLoginTrigger(tenant=self.tenant, site=site, runner=self.action_runner)
        return [
            *self.management(site),
            *self.authentication(site, issuer, trigger),
            *self.browser(site, issuer, trigger),
        ]

    def management(self, site: Site) -> list[Route]:
        return management_routes(
            tenant=self.tenant,
            site=site,
            grants=self.grants,
            clients=self.clients,
            token_lifetime=self.token_lifetime,
            api_token_lifetime=self.access_token_lifetime,
            bare=self.bare,
        )

    def authentication(self, site: Site, issuer: TokenIssuer, trigger: PostLoginTrigger) -> list[Route]:
        """The token endpoint with every grant: the applications' here, the browser's from ``sandbox.oidc``."""
        people = self.access_token_lifetime  # code, refresh and password-realm tokens are people's
        answer = TokenAnswer(tenant=self.tenant, site=site, issuer=issuer, access_token_lifetime=people)
        refresh = RefreshTokenGrant(store=self.tenant.sign_ins, answer=answer, trigger=trigger)
        grants: dict[str, Grant] = {
            AUTHORIZATION_CODE_GRANT: AuthorizationCodeGrant(store=self.tenant.sign_ins, answer=answer),
            REFRESH_TOKEN_GRANT: refresh,
            CLIENT_CREDENTIALS_GRANT: ClientCredentialsGrant(
                site=site, issuer=issuer, grants=self.grants, lifetime=self.token_lifetime
            ),
            PASSWORD_GRANT: PasswordRealmGrant(
                tenant=self.tenant, site=site, issuer=issuer, lifetime=people, trigger=trigger
            ),
        }
        token = TokenEndpoint(clients=self.clients, grants=grants, revoke=refresh.revoke)
        return [
            *token.routes(),
            *ChangePasswordEndpoint(tenant=self.tenant, site=site, clients=self.clients).routes(),
            *SignupEndpoint(tenant=self.tenant, site=site, clients=self.clients).routes(),
            *Discovery(site=site, issuer=issuer, grant_types=token.grant_types).routes(),
        ]

    def browser(self, site: Site, issuer: TokenIssuer, trigger: PostLoginTrigger) -> list[Route]:
        completion = LoginCompletion(tenant=self.tenant, trigger=trigger)
        return [
            *AuthorizeEndpoint(tenant=self.tenant, site=site, clients=self.clients, completion=completion).routes(),
            *LoginPage(tenant=self.tenant, site=site, completion=completion).routes(),
            *ForgotPasswordPage(tenant=self.tenant, site=site).routes(),
            *GoogleStandIn(tenant=self.tenant, site=site, completion=completion).routes(),
            *PasswordlessEmail(tenant=self.tenant, site=site, completion=completion).routes(),
            *UserinfoEndpoint(tenant=self.tenant, site=site, issuer=issuer).routes(),
            *LogoutEndpoints(tenant=self.tenant, issuer=issuer, clients=self.clients).routes(),
            *PasswordResetPage(tenant=self.tenant, site=site, sign_in_url=self.sign_in_url).routes(),
        ]
