"""`ops check`'s reads: the Auth0 tenant against what the deployment needs (M2M grant, API, catalogue roles)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import httpx
from auth0.management.core.api_error import ApiError

from chalicelib.catalogue import Course, CourseCatalogue
from ops.settings import DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SETTING

if TYPE_CHECKING:
    from auth0.management import Auth0

T = TypeVar("T")

# What the service calls (docs/creator-guide.md, step 5): users-by-email, create/update users,
# read/assign/remove roles.
REQUIRED_SCOPES = (
    "read:users",
    "create:users",
    "update:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
)
# What `check` itself reads: client grants, roles and their permissions, the API's settings.
CHECK_SCOPES = ("read:client_grants", "read:roles", "read:resource_servers")
# Both dialects put the RBAC `permissions` claim in access tokens ("Add Permissions in the Access Token").
PERMISSION_DIALECTS = frozenset({"access_token_authz", "rfc9068_profile_authz"})
PERMISSIONS_PAGE = 100

OK = "ok"
WARN = "warn"
FAIL = "FAIL"

_MANAGEMENT_API_PAGE = "Auth0 Dashboard > Applications > APIs > Auth0 Management API > Machine To Machine Applications"
_APIS_PAGE = "Auth0 Dashboard > Applications > APIs"
_ROLES_PAGE = "Auth0 Dashboard > User Management > Roles"


@dataclass(frozen=True)
class Finding:
    status: str  # ok | warn | FAIL
    subject: str
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Target:
    """What the deployment expects of the tenant."""

    service_client_id: str
    management_audience: str
    api_identifier: str | None
    catalogue: CourseCatalogue
    checker_is_service: bool
    max_token_lifetime: int = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS


def run_checks(client: Auth0, target: Target) -> list[Finding]:
    findings = check_grant(client, target)
    api_scopes, api_findings = check_api(client, target)
    findings += api_findings
    for course in target.catalogue:
        findings += check_role(client, course, api_identifier=target.api_identifier, api_scopes=api_scopes)
    return findings


def check_grant(client: Auth0, target: Target) -> list[Finding]:
    """The service's M2M application holds exactly the Management API scopes it needs."""
    subject = f"M2M application {target.service_client_id}"
    fix_page = f"{_MANAGEMENT_API_PAGE} > the application with client ID {target.service_client_id}"
    grants, problem = _attempt(
        subject,
        "read:client_grants",
        lambda: list(
            client.client_grants.list(
                client_id=target.service_client_id, audience=target.management_audience, take=PERMISSIONS_PAGE
            )
        ),
    )
    if grants is None:
        return [problem] if problem else []
    if not grants:
        return [
            Finding(
                FAIL,
                subject,
                f"not authorized for the Management API ({target.management_audience})",
                f"{fix_page}: switch it on and tick {', '.join(REQUIRED_SCOPES)}"
                " (AUTH0_DOMAIN must be the tenant's own domain, not a custom domain)",
            )
        ]
    grant = grants[0]
    if grant.allow_all_scopes:
        return [
            Finding(
                FAIL, subject, "the grant allows every scope", f"{fix_page}: allow only {', '.join(REQUIRED_SCOPES)}"
            )
        ]
    return _scope_findings(subject, fix_page, set(grant.scope or []), checker_is_service=target.checker_is_service)


def _scope_findings(subject: str, fix_page: str, held: set[str], *, checker_is_service: bool) -> list[Finding]:
    missing = [scope for scope in REQUIRED_SCOPES if scope not in held]
    extra = sorted(held - set(REQUIRED_SCOPES))
    tolerated = [scope for scope in extra if checker_is_service and scope in CHECK_SCOPES]
    surplus = [scope for scope in extra if scope not in tolerated]
    findings: list[Finding] = []
    if missing:
        findings.append(Finding(FAIL, subject, f"lacks {', '.join(missing)}", f"{fix_page}: tick {', '.join(missing)}"))
    if surplus:
        findings.append(
            Finding(
                FAIL,
                subject,
                f"holds more than it needs: {', '.join(surplus)}",
                f"{fix_page}: untick {', '.join(surplus)}",
            )
        )
    if tolerated:
        findings.append(
            Finding(
                WARN,
                subject,
                f"holds {', '.join(tolerated)} for `check` only",
                "untick them after checking, or run check as a separate application (AUTH0_CHECK_CLIENT_ID)",
            )
        )
    if not findings:
        findings.append(Finding(OK, subject, f"exactly the scopes the service needs ({len(REQUIRED_SCOPES)})"))
    return findings


def check_api(client: Auth0, target: Target) -> tuple[set[str] | None, list[Finding]]:
    """The API buyers' tokens are for: RBAC on, permissions in the access token, short-lived tokens.

    Returns the API's permissions.
    """
    identifier = target.api_identifier
    if not identifier:
        return None, [
            Finding(
                FAIL,
                "API (AUTH0_AUDIENCE)",
                "AUTH0_AUDIENCE is not set",
                "set AUTH0_AUDIENCE in the stage's environment_variables to the API's identifier",
            )
        ]
    subject = f"API {identifier}"
    server, problem = _attempt(
        subject,
        "read:resource_servers",
        lambda: client.resource_servers.get(identifier),
        missing=Finding(
            FAIL,
            subject,
            "no API has this identifier",
            f"{_APIS_PAGE} > Create API with identifier {identifier}, or correct AUTH0_AUDIENCE",
        ),
    )
    if server is None:
        return None, [problem] if problem else []
    settings_page = f"{_APIS_PAGE} > {server.name or identifier} > Settings > RBAC Settings"
    findings = [
        Finding(OK, subject, "RBAC is enabled")
        if server.enforce_policies
        else Finding(FAIL, subject, "RBAC is disabled", f"{settings_page}: turn on Enable RBAC"),
        Finding(OK, subject, f"access tokens carry permissions ({server.token_dialect})")
        if server.token_dialect in PERMISSION_DIALECTS
        else Finding(
            FAIL,
            subject,
            f"access tokens carry no permissions (token dialect {server.token_dialect or 'access_token'})",
            f"{settings_page}: turn on Add Permissions in the Access Token",
        ),
        _lifetime_finding(subject, server.name or identifier, server.token_lifetime, target.max_token_lifetime),
    ]
    return {scope.value for scope in server.scopes or []}, findings


def _lifetime_finding(subject: str, name: str, lifetime: int | None, maximum: int) -> Finding:
    """Auth0's ``token_lifetime`` (also what the SPA's PKCE flow gets) against the configured maximum."""
    fix = (
        f"{_APIS_PAGE} > {name} > Settings > Access Token Expiration: set Maximum Access Token Lifetime to"
        f" {maximum} or less, and use refresh-token rotation in the SPA (or raise {MAX_TOKEN_LIFETIME_SETTING})"
    )
    if lifetime is None:
        return Finding(WARN, subject, "Auth0 did not report the access-token lifetime", fix)
    if lifetime > maximum:
        return Finding(
            WARN,
            subject,
            f"access tokens live {_duration(lifetime)}, over the {_duration(maximum)} maximum:"
            " a refunded buyer keeps access that long",
            fix,
        )
    return Finding(OK, subject, f"access tokens live {_duration(lifetime)} (maximum {_duration(maximum)})")


def _duration(seconds: int) -> str:
    """``86400`` -> ``86400 s (24 h)``; ``600`` -> ``600 s (10 min)``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds} s ({seconds // 3600} h)"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds} s ({seconds // 60} min)"
    return f"{seconds} s"


def check_role(
    client: Auth0, course: Course, *, api_identifier: str | None, api_scopes: set[str] | None
) -> list[Finding]:
    """The course's role exists and carries the course's permission on the API."""
    subject = f"role {course.role_id} ({course.slug})"
    role, problem = _attempt(
        subject,
        "read:roles",
        lambda: client.roles.get(course.role_id),
        missing=Finding(
            FAIL,
            subject,
            "no such role",
            f"{_ROLES_PAGE} > Create Role, then put its id in the catalogue's role_id for {course.slug!r}",
        ),
    )
    if role is None:
        return [problem] if problem else []
    permissions, problem = _attempt(subject, "read:roles", lambda: _role_permissions(client, course.role_id))
    if permissions is None:
        return [problem] if problem else []
    if any(
        name == course.permission and (api_identifier is None or api == api_identifier) for name, api in permissions
    ):
        return [Finding(OK, subject, f"{role.name or 'the role'} carries {course.permission}")]
    findings: list[Finding] = []
    if api_scopes is not None and course.permission not in api_scopes:
        findings.append(
            Finding(
                FAIL,
                f"API {api_identifier}",
                f"does not define the permission {course.permission}",
                f"{_APIS_PAGE} > {api_identifier} > Permissions: add {course.permission}",
            )
        )
    findings.append(
        Finding(
            FAIL,
            subject,
            f"lacks the permission {course.permission} on {api_identifier or 'the API'}",
            f"{_ROLES_PAGE} > {role.name or course.role_id} > Permissions > Add Permissions: "
            f"{api_identifier or 'the API'}, {course.permission}",
        )
    )
    return findings


def _role_permissions(client: Auth0, role_id: str) -> set[tuple[str | None, str | None]]:
    page = client.roles.permissions.list(role_id, per_page=PERMISSIONS_PAGE, page=0, include_totals=True)
    found: set[tuple[str | None, str | None]] = set()
    while True:
        items = page.items or []
        found.update((item.permission_name, item.resource_server_identifier) for item in items)
        total = getattr(page.response, "total", None)
        if len(items) < PERMISSIONS_PAGE or (total is not None and len(found) >= total):
            return found
        following = page.next_page()
        if following is None:
            return found
        page = following


def _attempt(
    subject: str, scope: str, request: Callable[[], T], *, missing: Finding | None = None
) -> tuple[T | None, Finding | None]:
    """Run one read; a failure becomes a finding instead of an exception."""
    try:
        return request(), None
    except ApiError as error:
        status = error.status_code or 0
        code = error.body.get("errorCode") if isinstance(error.body, dict) else None
        if status == 404 and missing is not None:
            return None, missing
        if status == 403:
            return None, Finding(
                FAIL,
                subject,
                f"cannot check: Auth0 refused it (403 {code or 'forbidden'})",
                f"{_MANAGEMENT_API_PAGE} > the application check runs as: tick {scope}",
            )
        return None, Finding(
            FAIL, subject, f"cannot check: Auth0 answered {status} ({code or 'no code'})", "run check again"
        )
    except httpx.HTTPError as error:
        return None, Finding(
            FAIL, subject, f"cannot check: Auth0 is unreachable ({type(error).__name__})", "run check again"
        )


def failed(findings: Sequence[Finding]) -> bool:
    return any(finding.status == FAIL for finding in findings)


def as_table(findings: Sequence[Finding]) -> str:
    rows = [("STATUS", "CHECK", "RESULT")] + [(item.status, item.subject, item.detail) for item in findings]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    lines = ["  ".join((row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2])) for row in rows]
    problems = [item for item in findings if item.status != OK]
    if problems:
        lines += ["", "What is wrong and how to fix it:"]
        for number, item in enumerate(problems, start=1):
            lines.append(f"{number}. [{item.status}] {item.subject}: {item.detail}")
            lines.append(f"   fix: {item.fix}")
    else:
        lines += ["", "Everything the deployment needs is in place."]
    return "\n".join(lines)
