"""The OIDC claims a scope allows (``profile``, ``email``), as Auth0 puts them in ID tokens and /userinfo."""

from __future__ import annotations

from typing import Any

from sandbox.tenant.tenant import Tenant
from sandbox.tenant.users import UserRecord

PROFILE_CLAIMS = ("name", "nickname", "picture", "updated_at")
EMAIL_CLAIMS = ("email", "email_verified")


def profile_claims(tenant: Tenant, user: UserRecord, scope: str) -> dict[str, Any]:
    """The claims of ``user`` that ``scope`` asks for."""
    scopes = scope.split()
    wanted = (PROFILE_CLAIMS if "profile" in scopes else ()) + (EMAIL_CLAIMS if "email" in scopes else ())
    shown = tenant.view(user)
    return {name: shown[name] for name in wanted if name in shown}
