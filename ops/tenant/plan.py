"""`ops tenant`'s decisions: the steps from what the tenant holds to what the stage needs (pure functions, no I/O).

A step whose resource does not exist yet (the grant of an application still to create, the permission of a
new role) is planned all the same, ``ready=False``: ``plan`` prints it, and ``apply`` runs it in its next
round, once the step before it has made the id. Nothing here ever deletes, and nothing that ``ops tenant``
did not create is changed unless the operator adopts it by name (``--adopt NAME``); otherwise it is refused.
This module plans the API, the roles and the catalogue's role ids; ``plan_apps`` the applications,
the grant, the connection, the Action and the credentials.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ops.tenant.model import SERVICE, ApiSpec, Desired, Found, FoundApi, FoundRole, role_mark, role_stage
from ops.tenant.plan_apps import (
    plan_action,
    plan_client,
    plan_connection,
    plan_credentials,
    plan_grant,
    secret_unsaved,
)
from ops.tenant.steps import NEW, NEW_ROLE_ID, Plan, Step, Targets, line, listed, setting_changes


def plan(desired: Desired, found: Found, targets: Targets, *, adopt: Iterable[str] = ()) -> Plan:
    """Every step from ``found`` to ``desired``, in the order ``apply`` takes them; refusals for what is not ours."""
    adopted = frozenset(adopt)
    refusals: list[str] = []
    steps = plan_api(desired.api, found.api, adopted, refusals)
    role_steps, role_ids = plan_roles(desired, found.roles, adopted, refusals)
    steps += role_steps
    clients: dict[str, str | None] = {}
    for spec in desired.clients:
        client_steps, clients[spec.purpose] = plan_client(spec, desired.stage, found.clients, adopted, refusals)
        steps += client_steps
    steps += plan_grant(desired, clients.get(SERVICE), found)
    steps += plan_connection(desired.connection, desired.stage, found.connection, clients, adopted, refusals)
    if desired.action is not None:
        new_secret = secret_unsaved(desired, found, targets)
        steps += plan_action(desired.action, found.action, found.bindings, new_secret=new_secret)
    steps += plan_catalogue(desired, role_ids, targets)
    credential_steps, notes = plan_credentials(desired, clients, found, targets)
    steps += credential_steps
    return Plan(steps=tuple(steps), refusals=tuple(refusals), notes=tuple(notes))


# --- the API --------------------------------------------------------------------------------------


def plan_api(spec: ApiSpec, api: FoundApi | None, adopted: frozenset[str], refusals: list[str]) -> list[Step]:
    subject = f"API {spec.identifier}"
    if api is None:
        listed_scopes = [{"value": value, "description": description} for value, description in spec.scopes]
        summary = (
            f'"{spec.name}": RS256, RBAC on, permissions in the access token, offline access, '
            f"token lifetime {spec.token_lifetime} s, permissions {listed(value for value, _ in spec.scopes)}"
        )
        payload = {"identifier": spec.identifier, "name": spec.name, "scopes": listed_scopes, **spec.settings()}
        return [Step("create_api", (line("create", f"{subject} {summary}"),), payload=payload)]
    if api.name != spec.name and api.name not in adopted:
        refusals.append(
            f'{subject} exists and ops tenant did not create it (its name is "{api.name}"): pass --adopt '
            f'"{api.name}" to manage it, or set AUTH0_AUDIENCE to a new identifier'
        )
        return []
    lines, changes = setting_changes(
        subject, {"name": spec.name, **spec.settings()}, {"name": api.name, **api.settings}
    )
    scopes = dict(api.scopes)
    for value, description in spec.scopes:
        if value not in scopes:
            lines.append(line("add", f"permission {value} to {subject}"))
        elif scopes[value] != description:
            lines.append(line("update", f"description of permission {value} on {subject}: {description!r}"))
    if any(scopes.get(value) != description for value, description in spec.scopes):
        wanted = dict(spec.scopes)
        kept = [{"value": value, "description": wanted.get(value, text)} for value, text in api.scopes]
        added = [{"value": value, "description": text} for value, text in spec.scopes if value not in scopes]
        changes["scopes"] = kept + added
    return [Step("update_api", tuple(lines), target=api.id, payload=changes)] if changes else []


# --- roles ----------------------------------------------------------------------------------------


def plan_roles(
    desired: Desired, roles: Sequence[FoundRole], adopted: frozenset[str], refusals: list[str]
) -> tuple[list[Step], dict[str, str | None]]:
    """Each course's role; returns the steps and each course's role id (None: to be created)."""
    by_id = {role.id: role for role in roles}
    by_name = {role.name: role for role in roles}
    mark = role_mark(desired.stage)
    steps: list[Step] = []
    role_ids: dict[str, str | None] = {}
    api = desired.api.identifier
    for spec in desired.roles:
        role = by_id.get(spec.catalogue_role_id) or by_name.get(spec.name)
        subject = f"role {spec.name}"
        owner = role_stage(role.description) if role is not None else None
        if role is not None and owner is not None and owner != desired.stage:
            # Adopting it would move another stage's buyers' role to this one: never, whatever --adopt says.
            refusals.append(
                f"{subject} exists as {role.id} and belongs to stage {owner} (its description ends "
                f'"{role_mark(owner)}"): ops tenant never takes over another stage\'s role, even with --adopt; '
                "give each stage its own Auth0 tenant"
            )
            role_ids[spec.slug] = spec.catalogue_role_id
            continue
        if role is not None and not role.description.endswith(mark) and role.name not in adopted:
            refusals.append(
                f"{subject} exists as {role.id} and ops tenant did not create it (its description does not end "
                f'"{mark}"): pass --adopt "{role.name}" to manage it'
            )
            role_ids[spec.slug] = role.id
            continue
        if role is None:
            steps.append(
                Step(
                    "create_role",
                    (line("create", f"{subject} ({spec.description})"),),
                    payload={"name": spec.name, "description": spec.description},
                )
            )
            steps.append(
                Step(
                    "add_role_permissions",
                    (line("add", f"permission {spec.permission} on API {api} to {subject} {NEW}"),),
                    payload={"role": spec.name, "permissions": [(api, spec.permission)]},
                    ready=False,
                )
            )
            role_ids[spec.slug] = None
            continue
        role_ids[spec.slug] = role.id
        steps += _role_changes(spec.name, spec.description, spec.permission, api, role)
    return steps, role_ids


def _role_changes(name: str, description: str, permission: str, api: str, role: FoundRole) -> list[Step]:
    subject = f"role {name} ({role.id})"
    lines, changes = setting_changes(
        subject, {"name": name, "description": description}, {"name": role.name, "description": role.description}
    )
    steps = [Step("update_role", tuple(lines), target=role.id, payload=changes)] if changes else []
    held = {granted for granted in role.permissions}
    if (api, permission) not in held:
        steps.append(
            Step(
                "add_role_permissions",
                (line("add", f"permission {permission} on API {api} to {subject}"),),
                target=role.id,
                payload={"permissions": [(api, permission)]},
            )
        )
    # The role is the course's: any other permission on the course API would open another course.
    extra = sorted(granted for granted in held if granted[0] == api and granted[1] != permission)
    if extra:
        steps.append(
            Step(
                "remove_role_permissions",
                tuple(line("remove", f"permission {value} on API {api} from {subject}") for _, value in extra),
                target=role.id,
                payload={"permissions": extra},
            )
        )
    return steps


# --- what the service reads: role ids and credentials ---------------------------------------------


def plan_catalogue(desired: Desired, role_ids: Mapping[str, str | None], targets: Targets) -> list[Step]:
    """The catalogue's ``role_id`` of each course, written back where the service reads it."""
    lines, ids, ready = [], {}, True
    for spec in desired.roles:
        role_id = role_ids.get(spec.slug)
        if role_id == spec.catalogue_role_id:
            continue
        lines.append(
            line(
                "write",
                f"role_id of course {spec.slug} in {targets.catalogue}: "
                f"{spec.catalogue_role_id} -> {role_id or NEW_ROLE_ID}",
            )
        )
        ids[spec.slug] = role_id
        ready = ready and role_id is not None
    return [Step("write_role_ids", tuple(lines), payload={"role_ids": ids}, ready=ready)] if lines else []
