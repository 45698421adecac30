"""JSON as the service reads it from callers (ping and login bodies, /verify, tokens): RFC 8259 in UTF-8 only."""

from __future__ import annotations

import json
from typing import Any


def parse_json(document: bytes | str) -> Any:
    """The value of ``document``; ``ValueError`` for anything that is not standard JSON.

    Python's parser also accepts ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON: refused
    here. Bytes are UTF-8 only (``json.loads`` would also guess UTF-16 and UTF-32). Nesting deep enough
    to exhaust the stack, like integers past Python's conversion limit, is a ``ValueError`` too, so a
    caller catches one exception.
    """
    try:
        text = document.decode("utf-8") if isinstance(document, bytes) else document
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("the JSON document is nested too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
