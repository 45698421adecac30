"""Query-string parameters of the Management API: booleans, bounded integers, ``fields``; Auth0's 400s otherwise."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import invalid_query
from sandbox.http.wire import Request

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50


def boolean_parameter(request: Request, name: str, *, default: bool) -> bool:
    """A ``true``/``false`` query parameter, or Auth0's ``invalid_query_string`` 400."""
    raw = request.query_value(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid_query(f'Invalid value "{raw}" for parameter {name}: expected a boolean')


def integer_parameter(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low``..``high``, or Auth0's ``invalid_query_string`` 400."""
    raw = request.query_value(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise invalid_query(f'Invalid value "{raw}" for parameter {name}: expected {low} to {high}')
    return int(raw)


def select_fields(user: dict[str, Any], fields: str | None, include: bool) -> dict[str, Any]:
    """Auth0's ``fields``/``include_fields``: keep (or drop) the named top-level keys."""
    if not fields:
        return user
    names = {name.strip() for name in fields.split(",") if name.strip()}
    return {key: value for key, value in user.items() if (key in names) == include}
