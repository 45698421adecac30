"""Each planned change made through auth0-python: create, update, add or remove, deploy and bind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ops.errors import Auth0Refused
from ops.tenant.auth0 import PAGE, Calls
from ops.tenant.model import POST_LOGIN
from ops.tenant.steps import Step

BUILD_WAIT_SECONDS = 60.0


def make_change(calls: Calls, step: Step) -> None:
    """Make one step's change (the next round's read finds what it created)."""
    payload, target = dict(step.payload), step.target or ""
    client = calls.client
    if step.kind == "create_api":
        calls.write("create:resource_servers", lambda o: client.resource_servers.create(**payload, request_options=o))
    elif step.kind == "update_api":
        calls.write(
            "update:resource_servers",
            lambda o: client.resource_servers.update(target, **payload, request_options=o),
        )
    elif step.kind == "create_role":
        calls.write("create:roles", lambda o: client.roles.create(**payload, request_options=o))
    elif step.kind == "update_role":
        calls.write("update:roles", lambda o: client.roles.update(target, **payload, request_options=o))
    elif step.kind in ("add_role_permissions", "remove_role_permissions"):
        _role_permission_change(calls, step.kind, target, payload["permissions"])
    elif step.kind == "create_client":
        calls.write("create:clients", lambda o: client.clients.create(**payload, request_options=o))
    elif step.kind == "update_client":
        calls.write("update:clients", lambda o: client.clients.update(target, **payload, request_options=o))
    elif step.kind == "create_grant":
        calls.write("create:client_grants", lambda o: client.client_grants.create(**payload, request_options=o))
    elif step.kind == "update_grant":
        calls.write("update:client_grants", lambda o: client.client_grants.update(target, **payload, request_options=o))
    else:
        _execute_connection_or_action(calls, step.kind, target, payload)


def _role_permission_change(calls: Calls, kind: str, role_id: str, permissions: Sequence[tuple[str, str]]) -> None:
    body = [{"resource_server_identifier": api, "permission_name": name} for api, name in permissions]
    if kind == "add_role_permissions":
        calls.write(
            "update:roles",
            lambda o: calls.client.roles.permissions.add(role_id, permissions=body, request_options=o),
        )
    else:
        calls.write(
            "update:roles",
            lambda o: calls.client.roles.permissions.delete(role_id, permissions=body, request_options=o),
        )


def _execute_connection_or_action(calls: Calls, kind: str, target: str, payload: dict[str, Any]) -> None:
    client = calls.client
    if kind == "create_connection":
        calls.write("create:connections", lambda o: client.connections.create(**payload, request_options=o))
    elif kind == "update_connection":
        calls.write(
            "update:connections_options", lambda o: client.connections.update(target, **payload, request_options=o)
        )
    elif kind == "enable_connection":
        enable = [{"client_id": client_id, "status": True} for client_id in payload["client_ids"]]
        calls.write(
            "update:connections",
            lambda o: client.connections.clients.update(target, request=enable, request_options=o),
        )
    elif kind == "create_action":
        calls.write("create:actions", lambda o: client.actions.create(**payload, request_options=o))
    elif kind == "update_action":
        calls.write("update:actions", lambda o: client.actions.update(target, **payload, request_options=o))
    elif kind == "deploy_action":
        _wait_until_built(calls, target)
        calls.write("create:actions", lambda o: client.actions.deploy(target, request_options=o))
    elif kind == "bind_action":
        _bind(calls, target)
    else:
        raise ValueError(f"no such step: {kind}")


def _wait_until_built(calls: Calls, action_id: str) -> None:
    """Auth0 builds an Action after each change; it can be deployed once it is ``built``."""
    give_up = calls.wall_clock() + BUILD_WAIT_SECONDS
    while True:
        action = calls.read("read:actions", lambda o: calls.client.actions.get(action_id, request_options=o))
        if action.status == "built":
            return
        if action.status == "failed" or calls.wall_clock() > give_up:
            raise Auth0Refused(
                f"Auth0 did not build the Action {action_id} (status {action.status}): see it in the dashboard"
            )
        calls.sleep(1.0)


def _bind(calls: Calls, action_id: str) -> None:
    """Add the Action at the end of the post-login trigger, re-sending every other binding as it was."""
    pager = calls.read(
        "read:actions",
        lambda o: calls.client.actions.triggers.bindings.list(POST_LOGIN, per_page=PAGE, page=0, request_options=o),
    )
    kept = [
        {
            "ref": {"type": "action_id", "value": binding.action.id},
            "display_name": binding.display_name or binding.action.name,
        }
        for binding in pager.items or []
        if binding.action is not None and binding.action.id and binding.action.id != action_id
    ]
    action = calls.read("read:actions", lambda o: calls.client.actions.get(action_id, request_options=o))
    ours = {"ref": {"type": "action_id", "value": action_id}, "display_name": action.name or action_id}
    calls.write(
        "update:actions",
        lambda o: calls.client.actions.triggers.bindings.update_many(
            POST_LOGIN, bindings=[*kept, ours], request_options=o
        ),
    )
