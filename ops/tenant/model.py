"""`ops tenant`'s plain data: what a stage needs of its Auth0 tenant, and what the tenant holds (no I/O here).

Everything ``ops tenant apply`` creates carries its mark, so that it can tell its own resources from the
tenant owner's: applications and the connection in their metadata (``managed_by``, ``stage``, ``purpose``),
roles at the end of their description, the API and the Action in their names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MANAGED_BY = "gumroad-auth0-gate"
SPA = "spa"
SERVICE = "service"
LOGIN = "login"
POST_LOGIN = "post-login"
ACTION_RUNTIME = "node22"
# The Action's secrets (actions/post-login.js reads them), and the service's copy of the shared one.
POST_LOGIN_URL = "POST_LOGIN_URL"
POST_LOGIN_SECRET = "POST_LOGIN_SECRET"  # noqa: S105 - a secret's name
POST_LOGIN_SECRET_KEY = "post_login_secret"  # noqa: S105 - a key's name in the service's secret
# Auth0 never shows a secret's value: the credentials record the URL apply gave the Action, so a changed one shows.
POST_LOGIN_URL_KEY = "post_login_url"
PASSWORD_REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"  # noqa: S105 - a grant type name
# Refresh tokens of the SPA: rotating (a used one is refused and revokes its family: reuse detection),
# 15 days unused at most, 30 days in all; Auth0's own defaults for rotation.
REFRESH_IDLE_SECONDS = 1_296_000
REFRESH_ABSOLUTE_SECONDS = 2_592_000
# The Management API scopes `ops tenant` needs (docs/creator-guide.md), one line per resource in `ops tenant --help`.
TENANT_SCOPE_LINES = (
    ("read:resource_servers", "create:resource_servers", "update:resource_servers"),
    ("read:roles", "create:roles", "update:roles"),
    ("read:clients", "create:clients", "update:clients", "read:client_keys"),
    ("read:client_grants", "create:client_grants", "update:client_grants"),
    (
        "read:connections",
        "create:connections",
        "update:connections",
        "read:connections_options",
        "update:connections_options",
    ),
    ("read:actions", "create:actions", "update:actions"),
)
TENANT_SCOPES = tuple(scope for scopes in TENANT_SCOPE_LINES for scope in scopes)


def role_mark(stage: str) -> str:
    """The end of a managed role's description."""
    return f"(managed by {MANAGED_BY}, stage {stage})"


def role_stage(description: str) -> str | None:
    """The stage whose mark ends a role's description, or None: not a role ``ops tenant`` made."""
    prefix = f"(managed by {MANAGED_BY}, stage "
    start = description.rfind(prefix)
    if start < 0 or not description.endswith(")"):
        return None
    stage = description[start + len(prefix) : -1]
    return stage if stage and role_mark(stage) == description[start:] else None


def resource_name(stage: str, what: str) -> str:
    """``gumroad-auth0-gate prod API``: the name of the API, an application or the Action of a stage."""
    return f"{MANAGED_BY} {stage} {what}"


def client_metadata(stage: str, purpose: str) -> dict[str, str]:
    return {"managed_by": MANAGED_BY, "stage": stage, "purpose": purpose}


def connection_metadata(stage: str) -> dict[str, str]:
    return {"managed_by": MANAGED_BY, "stage": stage}


# --- what the stage needs -------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiSpec:
    """The API buyers' tokens are for (``AUTH0_AUDIENCE``): RBAC on, permissions in the access token."""

    identifier: str
    name: str
    token_lifetime: int
    scopes: tuple[tuple[str, str], ...]  # (permission, description), one per course

    def settings(self) -> dict[str, Any]:
        return {
            "signing_alg": "RS256",
            "enforce_policies": True,
            "token_dialect": "access_token_authz",
            "allow_offline_access": True,
            "skip_consent_for_verifiable_first_party_clients": True,
            "token_lifetime": self.token_lifetime,
        }


@dataclass(frozen=True)
class RoleSpec:
    """One course's role, holding exactly the course's permission on the API."""

    slug: str
    name: str
    description: str
    permission: str
    catalogue_role_id: str  # what the catalogue holds now (a placeholder, an old id, or the right one)


@dataclass(frozen=True)
class ClientSpec:
    """An application ``ops tenant`` owns: the SPA, the service's M2M application or the login application."""

    purpose: str
    name: str
    settings: Mapping[str, Any]
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class GrantSpec:
    """The service's grant on the Management API: exactly the scopes it calls with."""

    audience: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ConnectionSpec:
    """The database connection buyers are created in; sign-ups off (the service creates buyers)."""

    name: str
    options: Mapping[str, Any]
    metadata: Mapping[str, str]
    enabled_for: tuple[str, ...]  # purposes of the applications that sign people in or send them e-mail
    other_clients: tuple[str, ...] = ()  # client ids not ops tenant's own that must have it too


@dataclass(frozen=True)
class ActionSpec:
    """The post-login Action, deployed and bound to the post-login trigger."""

    name: str
    code: str
    runtime: str
    secrets: Mapping[str, str] = field(repr=False)
    secret_is_new: bool = False  # POST_LOGIN_SECRET was made by this run: only the credentials' destination keeps it


@dataclass(frozen=True)
class Desired:
    stage: str
    api: ApiSpec
    roles: tuple[RoleSpec, ...]
    clients: tuple[ClientSpec, ...]
    grant: GrantSpec
    connection: ConnectionSpec
    action: ActionSpec | None = None

    def client(self, purpose: str) -> ClientSpec | None:
        return next((spec for spec in self.clients if spec.purpose == purpose), None)


def spa_settings(urls: tuple[str, ...]) -> dict[str, Any]:
    """A public client that signs people in with PKCE and keeps them in with rotating refresh tokens."""
    return {
        "app_type": "spa",
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "callbacks": list(urls),
        "allowed_logout_urls": list(urls),
        "web_origins": list(urls),
        "oidc_conformant": True,
        "is_first_party": True,
        "jwt_configuration": {"alg": "RS256"},
        "refresh_token": {
            "rotation_type": "rotating",
            "expiration_type": "expiring",
            "leeway": 0,
            "idle_token_lifetime": REFRESH_IDLE_SECONDS,
            "infinite_idle_token_lifetime": False,
            "token_lifetime": REFRESH_ABSOLUTE_SECONDS,
            "infinite_token_lifetime": False,
        },
    }


def service_settings() -> dict[str, Any]:
    """The service's machine-to-machine application: ``client_credentials`` for the Management API only."""
    return {
        "app_type": "non_interactive",
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["client_credentials"],
        "oidc_conformant": True,
        "is_first_party": True,
        "jwt_configuration": {"alg": "RS256"},
    }


def login_settings() -> dict[str, Any]:
    """The application ``POST /login`` signs in as: the password-realm grant only."""
    return {
        "app_type": "regular_web",
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": [PASSWORD_REALM_GRANT],
        "oidc_conformant": True,
        "is_first_party": True,
        "jwt_configuration": {"alg": "RS256"},
    }


# --- what the tenant holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundApi:
    id: str
    identifier: str
    name: str
    settings: Mapping[str, Any]
    scopes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FoundRole:
    id: str
    name: str
    description: str
    permissions: tuple[tuple[str, str], ...]  # (API identifier, permission)


@dataclass(frozen=True)
class FoundClient:
    client_id: str
    name: str
    settings: Mapping[str, Any]
    metadata: Mapping[str, str]

    def is_managed(self, stage: str, purpose: str) -> bool:
        return dict(self.metadata) == client_metadata(stage, purpose)


@dataclass(frozen=True)
class FoundGrant:
    id: str
    client_id: str
    audience: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class FoundConnection:
    id: str
    name: str
    strategy: str
    options: Mapping[str, Any]
    metadata: Mapping[str, str]
    enabled_clients: tuple[str, ...]


@dataclass(frozen=True)
class FoundAction:
    id: str
    name: str
    code: str
    runtime: str
    secret_names: tuple[str, ...]
    deployed: bool  # built, and every change deployed
    secrets_sent: bool = False  # this apply set its secrets' values (Auth0 never shows them)


@dataclass(frozen=True)
class FoundBinding:
    action_id: str
    display_name: str


@dataclass(frozen=True)
class Credentials:
    """What the service needs from its applications: ids and secrets (never printed)."""

    values: Mapping[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(sorted(self.values))})"


@dataclass(frozen=True)
class Found:
    """The tenant's resources that concern the stage, as read before a plan."""

    api: FoundApi | None = None
    roles: tuple[FoundRole, ...] = ()
    clients: tuple[FoundClient, ...] = ()
    grants: tuple[FoundGrant, ...] = ()
    connection: FoundConnection | None = None
    action: FoundAction | None = None
    bindings: tuple[FoundBinding, ...] = ()
    client_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)  # client id -> secret
    stored_credentials: Credentials | None = None  # what the destination holds now (None: nothing)


# --- the stage's needs, from its settings and catalogue -------------------------------------------


@dataclass(frozen=True)
class Course:
    slug: str
    title: str
    permission: str
    role_id: str


@dataclass(frozen=True)
class StageNeeds:
    """What ``desired_state`` reads: the stage's settings and catalogue, already validated."""

    stage: str
    audience: str
    management_audience: str
    connection: str
    courses: tuple[Course, ...]
    spa_urls: tuple[str, ...]
    token_lifetime: int
    service_scopes: tuple[str, ...]
    login: bool
    other_connection_clients: tuple[str, ...] = ()
    action: ActionSpec | None = None


def desired_state(needs: StageNeeds) -> Desired:
    stage = needs.stage
    api = ApiSpec(
        identifier=needs.audience,
        name=resource_name(stage, "API"),
        token_lifetime=needs.token_lifetime,
        scopes=tuple((course.permission, f"Open the course {course.title}") for course in needs.courses),
    )
    roles = tuple(
        RoleSpec(
            slug=course.slug,
            name=f"course:{course.slug}",
            description=f"Buyers of {course.title} {role_mark(stage)}",
            permission=course.permission,
            catalogue_role_id=course.role_id,
        )
        for course in needs.courses
    )
    clients = [
        ClientSpec(SPA, resource_name(stage, "SPA"), spa_settings(needs.spa_urls), client_metadata(stage, SPA)),
        ClientSpec(SERVICE, resource_name(stage, "service"), service_settings(), client_metadata(stage, SERVICE)),
    ]
    if needs.login:
        clients.append(
            ClientSpec(LOGIN, resource_name(stage, "login"), login_settings(), client_metadata(stage, LOGIN))
        )
    # The SPA signs people in; the service sends the set-password e-mail as its own application; /login's
    # password-realm grant names the connection as its realm.
    enabled = tuple(spec.purpose for spec in clients)
    connection = ConnectionSpec(
        name=needs.connection,
        options={"disable_signup": True, "brute_force_protection": True},
        metadata=connection_metadata(stage),
        enabled_for=enabled,
        other_clients=needs.other_connection_clients,
    )
    return Desired(
        stage=stage,
        api=api,
        roles=roles,
        clients=tuple(clients),
        grant=GrantSpec(audience=needs.management_audience, scopes=tuple(sorted(needs.service_scopes))),
        connection=connection,
        action=needs.action,
    )
