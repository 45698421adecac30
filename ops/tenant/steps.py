"""`ops tenant`'s vocabulary: a step (what plan prints, what apply sends), a plan, and how changes are shown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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


# --- comparisons and how values are shown -----------------------------------------------------------


def setting_changes(
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
                text = ", ".join(f"{inner} {shown(held.get(inner))} -> {shown(value[inner])}" for inner in differing)
                lines.append(line("update", f"{subject}: {key}: {text}"))
                changes[key] = dict(value)
        elif normalised(held) != normalised(value):
            lines.append(line("update", f"{subject}: {key} {shown(held)} -> {shown(value)}"))
            changes[key] = value
    return lines, changes


def normalised(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return f"[{', '.join(str(item) for item in value)}]" if value else "[]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {shown(item)}" for key, item in sorted(value.items())) + "}"
    return str(value)


def listed(values: Iterable[str]) -> str:
    return ", ".join(values)
