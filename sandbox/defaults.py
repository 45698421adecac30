"""The sandbox's defaults: they match the ``local`` stage of ``.chalice/config.json``."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_STATE_PATH = Path(".sandbox/state.json")
DEFAULT_CATALOGUE = REPOSITORY / "chalicelib" / "courses.local.json"
# The post-login Action the tenant runs: the repository's own file (deployed to Auth0 by `ops tenant apply`).
POST_LOGIN_ACTION = REPOSITORY / "actions" / "post-login.js"
# Its secrets in the local stage: the service's route on the local stage's port, and the shared secret that
# the local stage's POST_LOGIN_SECRET holds (.chalice/config.json). Not a real secret.
LOCAL_POST_LOGIN_URL = "http://127.0.0.1:8000/auth0/post-login"
LOCAL_POST_LOGIN_SECRET = "local-post-login-secret"  # noqa: S105 - a public dev value
DEFAULT_API_AUDIENCE = "https://courses.local/api"
API_NAME = "Courses"  # the resource server the course roles' permissions belong to
DEFAULT_CONNECTION = "Username-Password-Authentication"

DEFAULT_M2M_CLIENT_ID = "sandbox-m2m-client"
DEFAULT_M2M_CLIENT_SECRET = "sandbox-m2m-client-secret-not-a-real-secret"  # noqa: S105 - a public dev value
DEFAULT_LOGIN_CLIENT_ID = "sandbox-login-client"
DEFAULT_LOGIN_CLIENT_SECRET = "sandbox-login-client-secret-not-a-real-secret"  # noqa: S105 - a public dev value
# The single-page application: a public client (no secret) that signs people in with PKCE.
SPA_CLIENT_ID = "sandbox-spa-client"
DEFAULT_SPA_ORIGIN = "http://127.0.0.1:3000"

# What Auth0 grants a Management API client that the service's M2M application needs.
M2M_SCOPES = (
    "read:users",
    "update:users",
    "create:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
)
# A separate operator application for `ops check`, so the service's own grant stays exact.
DEFAULT_CHECK_CLIENT_ID = "sandbox-check-client"
DEFAULT_CHECK_CLIENT_SECRET = "sandbox-check-client-secret-not-a-real-secret"  # noqa: S105 - a public dev value
CHECK_SCOPES = ("read:client_grants", "read:resource_servers", "read:roles")
TOKEN_LIFETIME_SECONDS = 86_400  # Auth0's default for M2M and API access tokens
ID_TOKEN_LIFETIME_SECONDS = 36_000
# Browser sign-in (Auth0's defaults unless said otherwise).
LOGIN_TRANSACTION_SECONDS = 900  # how long a login page stays usable
AUTHORIZATION_CODE_SECONDS = 300  # single use; RFC 6749 recommends at most 10 minutes
SESSION_IDLE_SECONDS = 259_200  # Auth0 "Idle Session Lifetime": 3 days
SESSION_MAX_SECONDS = 604_800  # Auth0 "Maximum Session Lifetime": 7 days
REFRESH_TOKEN_IDLE_SECONDS = 1_296_000  # rotating refresh tokens: 15 days inactivity
REFRESH_TOKEN_MAX_SECONDS = 2_592_000  # and 30 days absolute
# auth0-spa-js treats a cached access token as expired 60 s before its ``exp`` (CacheManager.get
# is called with 60), so user tokens must live longer than that or every call refreshes. ``make run``
# issues 90 s tokens: used for 30 s, then refreshed, so a refund shows in the SPA within ~30 s.
SPA_EXPIRY_LEEWAY_SECONDS = 60
LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS = 90
MAX_FAILED_LOGINS = 10  # Auth0's brute-force protection default threshold
PASSWORD_GRANT = "http://auth0.com/oauth/grant-type/password-realm"  # noqa: S105 - a grant type name
CLIENT_CREDENTIALS_GRANT = "client_credentials"
AUTHORIZATION_CODE_GRANT = "authorization_code"
REFRESH_TOKEN_GRANT = "refresh_token"  # noqa: S105 - a grant type name
# `serve --bare`: a tenant holding only the application `ops tenant` runs as (the local stage's
# AUTH0_TENANT_CLIENT_ID), with the Management API scopes it needs (ops/tenant/model.py's TENANT_SCOPES).
DEFAULT_BARE_STATE_PATH = Path(".sandbox/bare-state.json")
DEFAULT_TENANT_CLIENT_ID = "sandbox-tenant-client"
DEFAULT_TENANT_CLIENT_SECRET = "sandbox-tenant-client-secret-not-a-real-secret"  # noqa: S105 - a public dev value
TENANT_SCOPES = (
    "read:resource_servers",
    "create:resource_servers",
    "update:resource_servers",
    "read:roles",
    "create:roles",
    "update:roles",
    "read:clients",
    "create:clients",
    "update:clients",
    "read:client_keys",
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "read:connections",
    "create:connections",
    "update:connections",
    "read:connections_options",
    "update:connections_options",
    "read:actions",
    "create:actions",
    "update:actions",
)
