"""The tenant's Actions and their trigger bindings, shaped like Auth0's Management API action objects.

Kept in memory and seeded at every start (the repository's ``actions/post-login.js`` and its local
secrets), so an edit to the file takes effect at the next start; the state file never holds code or
secrets. Secrets are shown by name only, as Auth0 shows them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    created_at: str = field(default_factory=timestamp)
    updated_at: str = field(default_factory=timestamp)

    def to_auth0(self) -> dict[str, Any]:
        """``GET /api/v2/actions/actions/{id}``: the code, the runtime, secrets by name, deployed."""
        return {
            "id": self.id,
            "name": self.name,
            "supported_triggers": [{"id": self.trigger, "version": POST_LOGIN_VERSION}],
            "code": self.code,
            "dependencies": [],
            "runtime": RUNTIME,
            "secrets": [{"name": name, "updated_at": self.updated_at} for name in sorted(self.secrets)],
            "status": "built",
            "all_changes_deployed": True,
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
        with self._lock:
            self._actions[action_id] = action
            bound = self._bindings.setdefault(action.trigger, [])
            if action_id not in bound:
                bound.append(action_id)
        return action

    def set_secrets(self, action_id: str, secrets: Mapping[str, str]) -> Action:
        """Set (or, with an empty value, remove) secrets; the others stay."""
        with self._lock:
            action = self._actions[action_id]
            for name, value in secrets.items():
                if value:
                    action.secrets[name] = value
                else:
                    action.secrets.pop(name, None)
            action.updated_at = timestamp()
            return action

    def bound(self, trigger: str) -> list[Action]:
        with self._lock:
            return [self._actions[action_id] for action_id in self._bindings.get(trigger, [])]

    def unbind(self, trigger: str) -> None:
        with self._lock:
            self._bindings.pop(trigger, None)

    def bindings(self, trigger: str) -> dict[str, Any]:
        """``GET /api/v2/actions/triggers/{trigger}/bindings``."""
        bound = self.bound(trigger)
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
