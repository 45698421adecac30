"""A small CloudWatch Logs Insights evaluator: the subset of the query language the docs' queries use, run over
log lines, so a test can hold each documented query to what it promises.

Commands: ``fields``, ``filter``, ``stats count() [as name], ... by field, bin(Nm|Ns|Nh)``, ``sort field [asc|desc]``,
``limit N``. Filter expressions: ``and``, ``or``, ``not``, parentheses, ``= != < <= > >=`` against a string or number,
``in [...]``, ``like "text"`` or ``like /regex/``, ``ispresent(field)``. Anything else is refused (``Unsupported``), so
a query the docs show either runs here or fails the test.

Fields are discovered as Logs Insights discovers them (AWS, "Supported logs and discovered fields"): from a log
event that is JSON, and in Lambda logs from the first embedded JSON fragment of each event (the Python runtime
writes ``[LEVEL]\\ttime\\trequest id\\tmessage``); nested objects and arrays are flattened with dots (``a.b``,
``changes.0``). ``@timestamp`` and ``@message`` are the event's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Row = dict[str, Any]


class Unsupported(ValueError):
    """A query uses something this evaluator does not implement."""


@dataclass(frozen=True)
class LogEvent:
    timestamp_ms: int
    message: str


def lambda_line(message: str, *, level: str, timestamp_ms: int, request_id: str) -> str:
    """``message`` as the Lambda Python runtime's handler writes it (awslambdaric bootstrap.py, Text log format)."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return f"[{level}]\t{moment:%Y-%m-%dT%H:%M:%S}.{timestamp_ms % 1000}Z\t{request_id}\t{message}\n"


def discovered_fields(event: LogEvent) -> Row:
    """The fields Logs Insights discovers in one event: the first JSON object in it, flattened."""
    row: Row = {"@timestamp": event.timestamp_ms, "@message": event.message}
    start = event.message.find("{")
    while start != -1:
        try:
            document, _ = json.JSONDecoder().raw_decode(event.message, start)
        except json.JSONDecodeError:
            start = event.message.find("{", start + 1)
            continue
        if isinstance(document, dict):
            _flatten(document, "", row)
        break
    return row


def _flatten(value: Any, prefix: str, into: Row) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}{key}.", into)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}{index}.", into)
    else:
        into[prefix[:-1]] = value


def run_query(query: str, events: Iterable[LogEvent]) -> list[Row]:
    """The rows ``query`` answers over ``events``, in the order Logs Insights would give them."""
    rows = [discovered_fields(event) for event in events]
    projection: list[str] | None = None
    for command in split_commands(query):
        verb, _, rest = command.partition(" ")
        if verb == "fields":
            projection = [name.strip() for name in rest.split(",")]
        elif verb == "filter":
            predicate = _Parser(rest).expression()
            rows = [row for row in rows if predicate(row)]
        elif verb == "stats":
            rows, projection = _stats(rest, rows)
        elif verb == "sort":
            name, _, direction = rest.strip().partition(" ")
            present = [row for row in rows if name in row]
            present.sort(key=lambda row: row[name], reverse=direction.strip() != "asc")
            rows = present + [row for row in rows if name not in row]
        elif verb == "limit":
            rows = rows[: int(rest)]
        else:
            raise Unsupported(f"command {verb!r}")
    if projection is None:
        return rows
    return [{name: row[name] for name in projection if name in row} for row in rows]


def referenced_fields(query: str) -> set[str]:
    """Every field name a query reads (in fields, filter, stats and sort), without functions and literals."""
    names: set[str] = set()
    for command in split_commands(query):
        verb, _, rest = command.partition(" ")
        if verb == "limit":
            continue
        if verb == "sort":
            rest = rest.strip().partition(" ")[0]
        text = re.sub(r'"[^"]*"|\'[^\']*\'|/[^/]*/', " ", rest)
        text = re.sub(r"\bbin\(\s*\d+[smh]\s*\)|\bcount\(\s*\*?\s*\)", " ", text)
        text = re.sub(r"\bas\s+[\w@.]+", " ", text)
        for word in re.findall(r"[@A-Za-z_][\w@.]*", text):
            if word not in {"and", "or", "not", "in", "like", "by", "asc", "desc", "ispresent"}:
                names.add(word)
    if "@timestamp" in query and "bin(" in query:
        names.add("@timestamp")
    return names


def split_commands(query: str) -> list[str]:
    """The commands between ``|`` (outside quotes and regexes), comment lines dropped, runs of blanks as one."""
    text = " ".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))
    commands, current, quote = [], "", ""
    for character in text:
        if quote:
            quote = "" if character == quote else quote
        elif character in "\"'/":
            quote = character
        elif character == "|":
            commands.append(current.strip())
            current = ""
            continue
        elif character.isspace() and current.endswith(" "):
            continue
        elif character.isspace():
            character = " "
        current += character
    commands.append(current.strip())
    return [command for command in commands if command]


_STAT = re.compile(r"count\(\s*\*?\s*\)(?:\s+as\s+(?P<alias>[\w@]+))?$")
_BIN = re.compile(r"bin\(\s*(?P<size>\d+)(?P<unit>[smh])\s*\)$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000}


def _stats(rest: str, rows: Sequence[Row]) -> tuple[list[Row], list[str]]:
    aggregates, _, by = rest.partition(" by ")
    names = []
    for aggregate in (part.strip() for part in aggregates.split(",")):
        match = _STAT.match(aggregate)
        if not match:
            raise Unsupported(f"stats {aggregate!r}")
        names.append(match["alias"] or "count()")
    keys = [key.strip() for key in by.split(",")] if by else []
    groups: dict[tuple[Any, ...], int] = {}
    for row in rows:
        values = []
        for key in keys:
            binned = _BIN.match(key)
            if binned:
                size = int(binned["size"]) * _UNIT_MS[binned["unit"]]
                values.append(row["@timestamp"] // size * size)
            else:
                values.append(row.get(key))
        groups[tuple(values)] = groups.get(tuple(values), 0) + 1
    result = [
        {**dict(zip(keys, values, strict=True)), **dict.fromkeys(names, count)} for values, count in groups.items()
    ]
    return result, [*keys, *names]


_TOKEN = re.compile(
    r'\s*(?:(?P<string>"[^"]*"|\'[^\']*\')|(?P<regex>/[^/]*/)|(?P<number>-?\d+(?:\.\d+)?)'
    r"|(?P<op><=|>=|!=|=|<|>|\(|\)|\[|\]|,)|(?P<word>[@A-Za-z_][\w@.]*))"
)


class _Parser:
    """filter expressions, by recursive descent; each method returns a predicate over a row."""

    def __init__(self, text: str) -> None:
        self._tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                raise Unsupported(f"filter text {text[position:]!r}")
            kind = match.lastgroup or ""
            self._tokens.append((kind, match[kind]))
            position = match.end()
        self._at = 0

    def expression(self) -> Any:
        predicate = self._or()
        if self._at != len(self._tokens):
            raise Unsupported(f"filter text after {self._tokens[self._at - 1][1]!r}")
        return predicate

    def _peek(self) -> str:
        return self._tokens[self._at][1] if self._at < len(self._tokens) else ""

    def _take(self) -> tuple[str, str]:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _or(self) -> Any:
        parts = [self._and()]
        while self._peek() == "or":
            self._take()
            parts.append(self._and())
        return lambda row: any(part(row) for part in parts)

    def _and(self) -> Any:
        parts = [self._not()]
        while self._peek() == "and":
            self._take()
            parts.append(self._not())
        return lambda row: all(part(row) for part in parts)

    def _not(self) -> Any:
        if self._peek() == "not":
            self._take()
            inner = self._not()
            return lambda row: not inner(row)
        return self._atom()

    def _atom(self) -> Any:
        if self._peek() == "(":
            self._take()
            inner = self._or()
            self._expect(")")
            return inner
        kind, name = self._take()
        if kind != "word":
            raise Unsupported(f"filter operand {name!r}")
        if name == "ispresent":
            self._expect("(")
            field = self._take()[1]
            self._expect(")")
            return lambda row: field in row
        operator = self._take()[1]
        if operator == "in":
            self._expect("[")
            values = [self._literal()]
            while self._peek() == ",":
                self._take()
                values.append(self._literal())
            self._expect("]")
            return lambda row: name in row and any(_equal(row[name], value) for value in values)
        if operator == "like":
            kind, pattern = self._take()
            expression = re.compile(pattern[1:-1] if kind == "regex" else re.escape(pattern[1:-1]))
            return lambda row: name in row and bool(expression.search(str(row[name])))
        if operator not in {"=", "!=", "<", "<=", ">", ">="}:
            raise Unsupported(f"filter operator {operator!r}")
        value = self._literal()
        return lambda row: name in row and _compare(row[name], operator, value)

    def _literal(self) -> Any:
        kind, text = self._take()
        if kind == "string":
            return text[1:-1]
        if kind == "number":
            return float(text)
        raise Unsupported(f"filter literal {text!r}")

    def _expect(self, text: str) -> None:
        if self._take()[1] != text:
            raise Unsupported(f"filter expected {text!r}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _equal(left: Any, right: float | str) -> bool:
    if isinstance(right, float):
        return _number(left) == right
    # JSON's true/false are discovered as the words true/false.
    text = str(left).lower() if isinstance(left, bool) else str(left)
    return text == right


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator in {"=", "!="}:
        return _equal(left, right) == (operator == "=")
    if isinstance(right, float):
        number = _number(left)
        return number is not None and _ORDER[operator](number, right)
    return _ORDER[operator](str(left), right)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
