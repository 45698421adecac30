"""`ops tenant`'s decisions for the applications, the service's grant, the database connection, the post-login
Action and the service's credentials (pure functions, no I/O; ``plan`` calls them in order)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from ops.tenant.model import (
    POST_LOGIN,
    POST_LOGIN_SECRET,
    POST_LOGIN_SECRET_KEY,
    POST_LOGIN_URL,
    POST_LOGIN_URL_KEY,
    SERVICE,
    ActionSpec,
    ClientSpec,
    ConnectionSpec,
    Desired,
    Found,
    FoundAction,
    FoundClient,
    FoundConnection,
)
from ops.tenant.steps import NEW, Step, Targets, line, listed, setting_changes, shown

# The Action's secrets the service's credentials keep a copy of (key there: the secret's name in the Action).
_RECORDED_ACTION_SECRETS = {POST_LOGIN_SECRET_KEY: POST_LOGIN_SECRET, POST_LOGIN_URL_KEY: POST_LOGIN_URL}

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
    lines, changes = setting_changes(
        subject,
        {"name": spec.name, "client_metadata": dict(spec.metadata), **spec.settings},
        {"name": client.name, "client_metadata": dict(client.metadata), **client.settings},
    )
    steps = [Step("update_client", tuple(lines), target=client.client_id, payload=changes)] if changes else []
    return steps, client.client_id


def _summary(settings: Mapping[str, Any]) -> str:
    shown = [f"{settings['app_type']}", f"grant types {listed(settings['grant_types'])}"]
    if settings.get("callbacks"):
        shown.append(f"callback, logout and web-origin URLs {listed(settings['callbacks'])}")
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
                (line("create", f"{subject}: {listed(wanted)}"),),
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
        options = ", ".join(f"{key} {shown(value)}" for key, value in sorted(spec.options.items()))
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
        lines, _ = setting_changes(
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
                (line("enable", f"{subject} for the {listed(names)}"),),
                target=target,
                payload={"connection": spec.name, "client_ids": missing},
                ready=target is not None and not pending,
            )
        )
    return steps


# --- the post-login Action ------------------------------------------------------------------------


def plan_action(
    spec: ActionSpec, action: FoundAction | None, bindings: Sequence[Any], *, new_secret: bool = False
) -> list[Step]:
    """Create, update, deploy and bind the Action. Auth0 never shows a secret's value: ``new_secret`` says the
    service's copy of POST_LOGIN_SECRET or of POST_LOGIN_URL is not what the Action needs (``secret_unsaved``), so
    the Action's secrets must be set again."""
    subject = f'Action "{spec.name}"'
    trigger = [{"id": POST_LOGIN, "version": "v3"}]
    secrets = [{"name": name, "value": value} for name, value in sorted(spec.secrets.items())]
    names = listed(sorted(spec.secrets)) if spec.secrets else "none"
    if action is None:
        return [
            Step(
                "create_action",
                (line("create", f"{subject} ({spec.runtime}, post-login, secrets {names}; values not shown)"),),
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
    if new_secret or tuple(sorted(action.secret_names)) != tuple(sorted(spec.secrets)):
        lines.append(line("update", f"secrets of {subject}: {names} (values not shown)"))
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
    if desired.action is not None:
        for key, name in _RECORDED_ACTION_SECRETS.items():
            if name in desired.action.secrets:
                wanted[key] = desired.action.secrets[name]
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
    text = f"{listed(differ)} in {targets.credentials} (values not shown)"
    values = {key: wanted[key] for key in keys}
    return [Step("write_credentials", (line("write", text),), payload={"values": values}, ready=ready)], []


def secret_unsaved(desired: Desired, found: Found, targets: Targets) -> bool:
    """The Action's secrets differ from what the service's credentials record of them: its POST_LOGIN_SECRET (or
    none is stored yet), or the POST_LOGIN_URL apply last gave it (a stack deployed since, a new domain)."""
    if desired.action is None:
        return False
    if found.action is not None and found.action.secrets_sent:
        return False
    stored = found.stored_credentials.values if found.stored_credentials is not None else {}
    secrets = desired.action.secrets
    return any(
        key in targets.credential_keys and name in secrets and not _same(stored.get(key), secrets[name])
        for key, name in _RECORDED_ACTION_SECRETS.items()
    )


def _same(stored: str | None, wanted: str) -> bool:
    return stored is not None and hmac.compare_digest(stored.encode(), wanted.encode())
