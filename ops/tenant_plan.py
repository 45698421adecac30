"""`ops tenant`'s decisions: the steps from what the tenant holds to what the stage needs (pure functions, no I/O).

A step whose resource does not exist yet (the grant of an application still to create, the permission of a
new role) is planned all the same, ``ready=False``: ``plan`` prints it, and ``apply`` runs it in its next
round, once the step before it has made the id. Nothing here ever deletes, and nothing that ``ops tenant``
did not create is changed unless the operator adopts it by name (``--adopt NAME``); otherwise it is refused.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ops.tenant_model import (
    POST_LOGIN,
    SERVICE,
    ActionSpec,
    ApiSpec,
    ClientSpec,
    ConnectionSpec,
    Desired,
    Found,
    FoundAction,
    FoundApi,
    FoundClient,
    FoundConnection,
    FoundRole,
    role_mark,
)

NEW = "(new)"
NEW_ROLE_ID = "(the new role's id)"
_SYMBOLS = {"create": "+", "add": "+", "enable": "+", "bind": "+", "deploy": "+", "remove": "-"}


@dataclass(frozen=True)
class Step:
    """One change: the lines ``plan`` prints, what ``apply`` sends (``kind``, ``target``, ``payload``)."""

    kind: str
    lines: tuple[str, ...]
    target: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict, repr=False)
    ready: bool = True  # every id it needs exists; otherwise a step before it makes one


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    refusals: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def lines(self) -> list[str]:
        return [line for step in self.steps for line in step.lines]

    @property
    def changes_anything(self) -> bool:
        return bool(self.steps)


@dataclass(frozen=True)
class Targets:
    """Where ``apply`` writes what the service reads: the catalogue's role ids, the service's credentials."""

    catalogue: str  # the catalogue file, as shown to the operator
    credentials: str | None = None  # the destination, as shown (None: none was given)
    credential_keys: tuple[str, ...] = ()  # what that destination holds (client_id, client_secret, ...)


def line(verb: str, text: str) -> str:
    return f"{_SYMBOLS.get(verb, '~')} {verb} {text}"


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
        steps += plan_action(desired.action, found.action, found.bindings)
    steps += plan_catalogue(desired, role_ids, targets)
    credential_steps, notes = plan_credentials(desired, clients, found, targets)
    steps += credential_steps
    return Plan(steps=tuple(steps), refusals=tuple(refusals), notes=tuple(notes))


# --- the API --------------------------------------------------------------------------------------


def plan_api(spec: ApiSpec, api: FoundApi | None, adopted: frozenset[str], refusals: list[str]) -> list[Step]:
    subject = f"API {spec.identifier}"
    if api is None:
        listed = [{"value": value, "description": description} for value, description in spec.scopes]
        summary = (
            f'"{spec.name}": RS256, RBAC on, permissions in the access token, offline access, '
            f"token lifetime {spec.token_lifetime} s, permissions {_listed(value for value, _ in spec.scopes)}"
        )
        payload = {"identifier": spec.identifier, "name": spec.name, "scopes": listed, **spec.settings()}
        return [Step("create_api", (line("create", f"{subject} {summary}"),), payload=payload)]
    if api.name != spec.name and api.name not in adopted:
        refusals.append(
            f'{subject} exists and ops tenant did not create it (its name is "{api.name}"): pass --adopt '
            f'"{api.name}" to manage it, or set AUTH0_AUDIENCE to a new identifier'
        )
        return []
    lines, changes = _setting_changes(
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
    lines, changes = _setting_changes(
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


# --- applications ---------------------------------------------------------------------------------


def plan_client(
    spec: ClientSpec, stage: str, clients: Sequence[FoundClient], adopted: frozenset[str], refusals: list[str]
) -> tuple[list[Step], str | None]:
    """The application's steps and its client id (None: to be created)."""
    subject = f'application "{spec.name}"'
    managed = [client for client in clients if client.is_managed(stage, spec.purpose)]
    if len(managed) > 1:
        ids = ", ".join(client.client_id for client in managed)
        refusals.append(f"{subject}: several applications carry its mark ({ids}); delete all but one")
        return [], managed[0].client_id
    if managed:
        client = managed[0]
    else:
        same_name = [client for client in clients if client.name == spec.name]
        if not same_name:
            payload = {"name": spec.name, "client_metadata": dict(spec.metadata), **spec.settings}
            return [
                Step("create_client", (line("create", f"{subject} {_summary(spec.settings)}"),), payload=payload)
            ], None
        client = same_name[0]
        if spec.name not in adopted:
            refusals.append(
                f"{subject} exists as {client.client_id} and ops tenant did not create it (its client_metadata "
                f'lacks managed_by={spec.metadata["managed_by"]}): pass --adopt "{spec.name}" to manage it'
            )
            return [], client.client_id
    subject = f'application "{spec.name}" ({client.client_id})'
    lines, changes = _setting_changes(
        subject,
        {"name": spec.name, "client_metadata": dict(spec.metadata), **spec.settings},
        {"name": client.name, "client_metadata": dict(client.metadata), **client.settings},
    )
    steps = [Step("update_client", tuple(lines), target=client.client_id, payload=changes)] if changes else []
    return steps, client.client_id


def _summary(settings: Mapping[str, Any]) -> str:
    shown = [f"{settings['app_type']}", f"grant types {_listed(settings['grant_types'])}"]
    if settings.get("callbacks"):
        shown.append(f"callback, logout and web-origin URLs {_listed(settings['callbacks'])}")
    refresh = settings.get("refresh_token")
    if isinstance(refresh, Mapping):
        shown.append(
            f"rotating refresh tokens with reuse detection, {refresh['idle_token_lifetime']} s idle, "
            f"{refresh['token_lifetime']} s absolute"
        )
    return f"({'; '.join(shown)})"


def plan_grant(desired: Desired, service_id: str | None, found: Found) -> list[Step]:
    """The service's grant on the Management API holds exactly the scopes it calls with."""
    spec = desired.grant
    subject = f"grant of the service's application on the Management API ({spec.audience})"
    wanted = sorted(spec.scopes)
    grants = [grant for grant in found.grants if grant.client_id == service_id and grant.audience == spec.audience]
    if service_id is None or not grants:
        return [
            Step(
                "create_grant",
                (line("create", f"{subject}: {_listed(wanted)}"),),
                payload={"client_id": service_id, "audience": spec.audience, "scope": wanted},
                ready=service_id is not None,
            )
        ]
    held = set(grants[0].scopes)
    if held == set(wanted):
        return []
    lines = [line("add", f"scope {scope} to the {subject}") for scope in wanted if scope not in held]
    lines += [line("remove", f"scope {scope} from the {subject}") for scope in sorted(held - set(wanted))]
    return [Step("update_grant", tuple(lines), target=grants[0].id, payload={"scope": wanted})]


# --- the database connection ----------------------------------------------------------------------


def plan_connection(
    spec: ConnectionSpec,
    stage: str,
    connection: FoundConnection | None,
    clients: Mapping[str, str | None],
    adopted: frozenset[str],
    refusals: list[str],
) -> list[Step]:
    subject = f"database connection {spec.name}"
    wanted = [clients.get(purpose) for purpose in spec.enabled_for] + list(spec.other_clients)
    known = sorted({client for client in wanted if client is not None})
    steps: list[Step] = []
    if connection is None:
        options = ", ".join(f"{key} {_shown(value)}" for key, value in sorted(spec.options.items()))
        steps.append(
            Step(
                "create_connection",
                (line("create", f"{subject} ({options})"),),
                payload={
                    "name": spec.name,
                    "strategy": "auth0",
                    "options": dict(spec.options),
                    "metadata": dict(spec.metadata),
                },
            )
        )
        enabled: tuple[str, ...] = ()
        target = None
    else:
        if dict(connection.metadata) != dict(spec.metadata) and connection.name not in adopted:
            refusals.append(
                f"{subject} exists ({connection.id}) and ops tenant did not create it (its metadata lacks "
                f'managed_by={spec.metadata["managed_by"]}, stage={stage}): pass --adopt "{spec.name}" to manage it '
                "(sign-ups then go off and its applications are enabled on it), or set AUTH0_CONNECTION to a new name"
            )
            return []
        if connection.strategy != "auth0":
            refusals.append(f"{subject} is a {connection.strategy} connection, not a database one (strategy auth0)")
            return []
        subject = f"{subject} ({connection.id})"
        current = {key: connection.options.get(key) for key in spec.options}
        lines, _ = _setting_changes(
            subject,
            {**spec.options, "metadata": dict(spec.metadata)},
            {**current, "metadata": dict(connection.metadata)},
        )
        if lines:
            # Auth0 replaces the whole options object on PATCH: send back every option it holds.
            payload = {
                "options": {**connection.options, **spec.options},
                "metadata": {**connection.metadata, **spec.metadata},
            }
            steps.append(Step("update_connection", tuple(lines), target=connection.id, payload=payload))
        enabled, target = connection.enabled_clients, connection.id
    missing = [client for client in known if client not in enabled]
    pending = len(known) < len(wanted)
    if missing or pending:
        names = [f"{purpose} application {clients.get(purpose) or NEW}" for purpose in spec.enabled_for]
        names += list(spec.other_clients)
        steps.append(
            Step(
                "enable_connection",
                (line("enable", f"{subject} for the {_listed(names)}"),),
                target=target,
                payload={"connection": spec.name, "client_ids": missing},
                ready=target is not None and not pending,
            )
        )
    return steps


# --- the post-login Action ------------------------------------------------------------------------


def plan_action(spec: ActionSpec, action: FoundAction | None, bindings: Sequence[Any]) -> list[Step]:
    subject = f'Action "{spec.name}"'
    trigger = [{"id": POST_LOGIN, "version": "v3"}]
    secrets = [{"name": name, "value": value} for name, value in sorted(spec.secrets.items())]
    names = _listed(sorted(spec.secrets)) if spec.secrets else "none"
    if action is None:
        return [
            Step(
                "create_action",
                (line("create", f"{subject} ({spec.runtime}, post-login, secrets {names})"),),
                payload={
                    "name": spec.name,
                    "code": spec.code,
                    "runtime": spec.runtime,
                    "supported_triggers": trigger,
                    "secrets": secrets,
                },
            ),
            Step("deploy_action", (line("deploy", subject),), payload={"name": spec.name}, ready=False),
            Step(
                "bind_action",
                (line("bind", f"{subject} to the post-login trigger, after its other Actions"),),
                payload={"name": spec.name},
                ready=False,
            ),
        ]
    subject = f'Action "{spec.name}" ({action.id})'
    steps: list[Step] = []
    lines: list[str] = []
    if action.code != spec.code:
        lines.append(line("update", f"code of {subject} (from the repository's actions/post-login.js)"))
    if action.runtime != spec.runtime:
        lines.append(line("update", f"runtime of {subject}: {action.runtime} -> {spec.runtime}"))
    if tuple(sorted(action.secret_names)) != tuple(sorted(spec.secrets)):
        lines.append(line("update", f"secrets of {subject}: {names}"))
    if lines:
        payload = {"code": spec.code, "runtime": spec.runtime, "secrets": secrets}
        steps.append(Step("update_action", tuple(lines), target=action.id, payload=payload))
    if lines or not action.deployed:
        steps.append(Step("deploy_action", (line("deploy", subject),), target=action.id))
    if not any(binding.action_id == action.id for binding in bindings):
        steps.append(
            Step(
                "bind_action",
                (line("bind", f"{subject} to the post-login trigger, after its other Actions"),),
                target=action.id,
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


def plan_credentials(
    desired: Desired, clients: Mapping[str, str | None], found: Found, targets: Targets
) -> tuple[list[Step], list[str]]:
    """The service's application ids and secrets, written to the destination when it holds others."""
    wanted: dict[str, str | None] = {}
    for purpose, prefix in ((SERVICE, ""), ("login", "login_"), ("spa", "spa_")):
        if desired.client(purpose) is None:
            continue
        client_id = clients.get(purpose)
        wanted[f"{prefix}client_id"] = client_id
        if purpose != "spa":
            wanted[f"{prefix}client_secret"] = found.client_secrets.get(client_id or "") if client_id else None
    if targets.credentials is None:
        return [], [
            "the service's credentials are written nowhere: give --write-credentials FILE, or set AUTH0_SECRET_ID "
            "(the stack's secret) so that apply writes them there"
        ]
    keys = [key for key in targets.credential_keys if key in wanted]
    stored = found.stored_credentials.values if found.stored_credentials is not None else {}
    # A value still to be made (the application is new) is a change too: apply writes it once it exists.
    differ = [key for key in keys if (value := wanted[key]) is None or not _same(stored.get(key), value)]
    if not differ:
        return [], []
    ready = all(wanted[key] is not None for key in keys)
    text = f"{_listed(differ)} in {targets.credentials} (values not shown)"
    values = {key: wanted[key] for key in keys}
    return [Step("write_credentials", (line("write", text),), payload={"values": values}, ready=ready)], []


def _same(stored: str | None, wanted: str) -> bool:
    return stored is not None and hmac.compare_digest(stored.encode(), wanted.encode())


# --- comparisons and how values are shown -----------------------------------------------------------


def _setting_changes(
    subject: str, wanted: Mapping[str, Any], current: Mapping[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """One line per setting that differs (only the settings ``wanted`` names), and the PATCH body."""
    lines: list[str] = []
    changes: dict[str, Any] = {}
    for key in sorted(wanted):
        value = wanted[key]
        held = current.get(key)
        if isinstance(value, Mapping) and isinstance(held, Mapping):
            differing = sorted(inner for inner in value if held.get(inner) != value[inner])
            if differing:
                shown = ", ".join(f"{inner} {_shown(held.get(inner))} -> {_shown(value[inner])}" for inner in differing)
                lines.append(line("update", f"{subject}: {key}: {shown}"))
                changes[key] = dict(value)
        elif _normalised(held) != _normalised(value):
            lines.append(line("update", f"{subject}: {key} {_shown(held)} -> {_shown(value)}"))
            changes[key] = value
    return lines, changes


def _normalised(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return f"[{', '.join(str(item) for item in value)}]" if value else "[]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_shown(item)}" for key, item in sorted(value.items())) + "}"
    return str(value)


def _listed(values: Iterable[str]) -> str:
    return ", ".join(values)
