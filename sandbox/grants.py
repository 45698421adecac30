"""Access tokens for sandbox users: ``permissions`` come from the roles the service assigned."""

from __future__ import annotations

from sandbox.config import Site
from sandbox.tenant import Tenant
from sandbox.tokens import TokenIssuer
from sandbox.users import UserRecord

OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
DEFAULT_USER_SCOPE = "openid profile email"


def user_access_token(
    issuer: TokenIssuer,
    tenant: Tenant,
    site: Site,
    user: UserRecord,
    *,
    client_id: str,
    scope: str,
    lifetime: int,
    grant_type: str | None = None,
) -> tuple[str, str]:
    """An access token for ``site.api_audience`` and the scope it carries.

    As with Auth0's RBAC ("add permissions in the access token"), the roles' permissions go
    in ``permissions``; ``scope`` keeps the OIDC scopes asked for and any asked-for permission
    the user holds. With ``openid`` the audience also names ``/userinfo``, as Auth0 does.
    """
    permissions = tenant.permissions_of(user)
    requested = [entry for entry in scope.split(" ") if entry]
    granted = [entry for entry in dict.fromkeys(requested) if entry in OIDC_SCOPES or entry in permissions]
    audience: str | list[str] = site.api_audience
    if "openid" in granted:
        audience = [site.api_audience, f"{site.base_url}/userinfo"]
    token = issuer.access_token(
        subject=user.user_id,
        audience=audience,
        client_id=client_id,
        scope=" ".join(granted),
        lifetime=lifetime,
        permissions=permissions,
        grant_type=grant_type,
    )
    return token, " ".join(granted)
