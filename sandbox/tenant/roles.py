"""Roles seeded from the service's course catalogue: one role per course, with its permission."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class CatalogueError(Exception):
    """The catalogue file cannot seed roles."""


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    description: str
    permission: str  # the one permission the sandbox's role holds ("" when none was added yet)
    api: str = ""  # the API it is on, when one created through the Management API ("": the API it serves)

    @property
    def permission_description(self) -> str:
        """How the API's scope and the role's permission describe what the role opens."""
        return f"What the role {self.name} grants"

    def to_auth0(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "description": self.description}


def load_roles(path: Path | str) -> list[Role]:
    """One role per course (``role_id``, ``permission``, ``slug``, ``title``) in ``path``."""
    source = Path(path)
    try:
        document: Any = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"cannot read the course catalogue {source}: {exc}") from exc
    courses = document.get("courses") if isinstance(document, dict) else None
    if not isinstance(courses, list):
        raise CatalogueError(f'{source} has no "courses" list')
    return [_role(course, source) for course in courses]


def _role(course: Any, source: Path) -> Role:
    if not isinstance(course, dict):
        raise CatalogueError(f"{source}: every course must be an object")
    values = {key: course.get(key) for key in ("role_id", "permission", "slug")}
    missing = [key for key, value in values.items() if not isinstance(value, str) or not value]
    if missing:
        raise CatalogueError(f"{source}: a course lacks {', '.join(missing)}")
    slug = str(values["slug"])
    title = course.get("title") if isinstance(course.get("title"), str) else slug
    return Role(
        id=str(values["role_id"]),
        name=f"course:{slug}",
        description=f"Buyers of the {title}",
        permission=str(values["permission"]),
    )
