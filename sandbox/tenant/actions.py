"""The tenant's Actions and their trigger bindings, shaped like Auth0's Management API action objects.

Kept in memory: seeded at every start (the repository's ``actions/post-login.js`` and its local secrets) unless
the tenant is bare, or made through the Management API (``ops tenant apply``); the state file never holds code or
secrets. Secrets are shown by name only, as Auth0 shows them. As at Auth0, a change is a draft until it is
deployed, and only a deployed Action can be bound: a login runs what was deployed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sandbox.tenant.configuration import random_id
from sandbox.tenant.users import timestamp

POST_LOGIN = "post-login"
POST_LOGIN_VERSION = "v3"
RUNTIME = "node22"  # what Auth0 runs; the sandbox runs the Node it finds (20 or later)


@dataclass
class Action:
    id: str
    name: str
    code: str
    source: Path | None  # the file the code came from, named in errors as Auth0 names the Action
    secrets: dict[str, str] = field(default_factory=dict)
    trigger: str = POST_LOGIN
    runtime: str = RUNTIME
    deployed_code: str | None = None  # what a login runs: the code and secrets of the last deploy
    deployed_secrets: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=timestamp)
    updated_at: str = field(default_factory=timestamp)

    @property
    def all_changes_deployed(self) -> bool:
        return self.deployed_code == self.code and self.deployed_secrets == self.secrets

    def to_auth0(self) -> dict[str, Any]:
        """``GET /api/v2/actions/actions/{id}``: the code, the runtime, secrets by name, deployed."""
        return {
            "id": self.id,
            "name": self.name,
            "supported_triggers": [{"id": self.trigger, "version": POST_LOGIN_VERSION}],
            "code": self.code,
            "dependencies": [],
            "runtime": self.runtime,
            "secrets": [{"name": name, "updated_at": self.updated_at} for name in sorted(self.secrets)],
            "status": "built",
            "all_changes_deployed": self.all_changes_deployed,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class Actions:
    """Actions by id, and which are bound (deployed, in order) to each trigger."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[str, Action] = {}
        self._bindings: dict[str, list[str]] = {}

    def deploy(self, *, name: str, code: str, source: Path | None, secrets: Mapping[str, str]) -> Action:
        """Create (or replace) a post-login Action and bind it, as ``ops tenant apply`` would deploy it."""
        action_id = "act_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:20]
        action = Action(id=action_id, name=name, code=code, source=source, secrets=dict(secrets))
        action.deployed_code, action.deployed_secrets = code, dict(secrets)
        with self._lock:
            self._actions[action_id] = action
            bound = self._bindings.setdefault(action.trigger, [])
            if action_id not in bound:
                bound.append(action_id)
        return action

    def set_secrets(self, action_id: str, secrets: Mapping[str, str]) -> Action:
        """Set (or, with an empty value, remove) secrets, deployed at once (a test's hook); the others stay."""
        with self._lock:
            action = self._actions[action_id]
            for name, value in secrets.items():
                if value:
                    action.secrets[name] = value
                else:
                    action.secrets.pop(name, None)
            action.deployed_secrets = dict(action.secrets)
            action.updated_at = timestamp()
            return action

    def bound(self, trigger: str) -> list[Action]:
        """The bound Actions in order, each as it was deployed (a draft change does not run)."""
        with self._lock:
            actions = [self._actions[action_id] for action_id in self._bindings.get(trigger, [])]
        return [
            replace(action, code=action.deployed_code, secrets=dict(action.deployed_secrets))
            for action in actions
            if action.deployed_code is not None
        ]

    # --- the Management API's actions (sandbox/management/actions.py) -------------------------------

    def create(self, *, name: str, code: str, runtime: str, secrets: Mapping[str, str]) -> Action:
        """A new draft Action (neither deployed nor bound); the name is unique, as at Auth0."""
        with self._lock:
            if any(action.name == name for action in self._actions.values()):
                raise ValueError(name)
            action = Action(
                id=random_id("act_", 20), name=name, code=code, source=None, secrets=dict(secrets), runtime=runtime
            )
            self._actions[action.id] = action
        return action

    def get(self, action_id: str) -> Action | None:
        with self._lock:
            return self._actions.get(action_id)

    def listed(self, *, trigger: str | None, name: str | None) -> list[Action]:
        with self._lock:
            actions = list(self._actions.values())
        return [action for action in actions if trigger in (None, action.trigger) and name in (None, action.name)]

    def change(
        self, action_id: str, *, code: str | None, runtime: str | None, secrets: Mapping[str, str] | None
    ) -> Action:
        """Change the draft; ``secrets`` replaces the whole set."""
        with self._lock:
            action = self._actions[action_id]
            if code is not None:
                action.code = code
            if runtime is not None:
                action.runtime = runtime
            if secrets is not None:
                action.secrets = dict(secrets)
            action.updated_at = timestamp()
            return action

    def publish(self, action_id: str) -> Action:
        """Deploy: the draft becomes what a login runs (at once, when the Action is bound)."""
        with self._lock:
            action = self._actions[action_id]
            action.deployed_code, action.deployed_secrets = action.code, dict(action.secrets)
            return action

    def bind(self, trigger: str, action_ids: list[str]) -> None:
        """Replace the trigger's bindings with these Actions, in this order."""
        with self._lock:
            self._bindings[trigger] = list(dict.fromkeys(action_ids))

    def unbind(self, trigger: str) -> None:
        with self._lock:
            self._bindings.pop(trigger, None)

    def bindings(self, trigger: str) -> dict[str, Any]:
        """``GET /api/v2/actions/triggers/{trigger}/bindings``."""
        with self._lock:
            bound = [self._actions[action_id] for action_id in self._bindings.get(trigger, [])]
        shown = [
            {
                "id": "bnd_" + action.id.removeprefix("act_"),
                "trigger_id": trigger,
                "display_name": action.name,
                "action": action.to_auth0(),
                "created_at": action.created_at,
                "updated_at": action.updated_at,
            }
            for action in bound
        ]
        return {"bindings": shown, "total": len(shown), "page": 0, "per_page": 20}

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            actions = list(self._actions.values())
        return [{**action.to_auth0(), "code": f"<{len(action.code)} characters>"} for action in actions]
