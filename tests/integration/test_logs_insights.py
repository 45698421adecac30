"""Every Logs Insights query in the docs returns what its paragraph promises, over the lines the service writes.

The lines come from the real service: pings through the API, messages through the worker (moto SQS, the Auth0
sandbox), private requests, scheduled reconciliations (a recorded Gumroad API), each written by the service's
own loggers and wrapped as Lambda's Python runtime writes them; the access log's lines are the template's own
format with API Gateway's variables filled in. Each query runs on the log groups its paragraph names.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.errors import ReconciliationIncomplete
from sandbox.http.faults import parse_fault
from tests.documentation import Block, fenced_blocks
from tests.integration import test_queue, test_reconcile
from tests.integration.harness import gumroad_body, new_sale_id
from tests.logs_insights import (
    LogEvent,
    discovered_fields,
    lambda_line,
    referenced_fields,
    run_query,
    split_commands,
)

deployment = test_queue.deployment
gumroad = test_reconcile.gumroad
Deployment = test_queue.Deployment

ROOT = Path(__file__).resolve().parents[2]
BUYER = "customer@example.com"
MASKED_BUYER = "c***r@example.com"
GROUP = re.compile(r"/aws/(?:lambda|apigateway)/<stack>-(?P<name>api|worker|reconcile|access)\b")


class LogGroups:
    """The service's log lines, by the log group each invocation writes to, as CloudWatch stores them."""

    def __init__(self) -> None:
        self.events: dict[str, list[LogEvent]] = {"api": [], "worker": [], "reconcile": [], "access": []}
        self._group: str | None = None
        self._request_id = ""
        self._handler = _Into(self)

    @contextmanager
    def invocation(self, group: str) -> Iterator[None]:
        """Lines logged inside go to ``group``, as one Lambda invocation's."""
        logger = logging.getLogger("gumroad_auth0")
        level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(self._handler)
        self._group, self._request_id = group, str(uuid.uuid4())
        try:
            yield
        finally:
            logger.removeHandler(self._handler)
            logger.setLevel(level)
            self._group = None

    def keep(self, record: logging.LogRecord) -> None:
        if self._group is None:
            return
        created = int(record.created * 1000)
        line = lambda_line(
            record.getMessage(), level=record.levelname, timestamp_ms=created, request_id=self._request_id
        )
        self.events[self._group].append(LogEvent(created, line))


class _Into(logging.Handler):
    def __init__(self, groups: LogGroups) -> None:
        super().__init__(logging.INFO)
        self._groups = groups

    def emit(self, record: logging.LogRecord) -> None:
        self._groups.keep(record)


def access_log_line(*, at_ms: int, method: str, route: str, status: int, error: str) -> LogEvent:
    """One line of the API's access log: the template's format, API Gateway's variables filled in."""
    template = json.loads((ROOT / ".chalice" / "deploy-resources.json").read_text(encoding="utf-8"))
    log_format = _access_format(template)
    values = {
        "requestId": str(uuid.uuid4()),
        "extendedRequestId": "Xk2P7FgxoAMEbTQ=",
        "requestTimeEpoch": str(at_ms),
        "identity.sourceIp": "203.0.113.9",
        "httpMethod": method,
        "resourcePath": route,
        "status": str(status),
        "error.responseType": error,
        "responseLength": "98",
        "responseLatency": "3",
        "integrationStatus": "-",
        "integrationLatency": "-",
        "protocol": "HTTP/1.1",
    }
    line = re.sub(r"\$context\.([\w.]+)", lambda match: values[match[1]], log_format)
    json.loads(line)  # API Gateway writes the format as it is: it must stay one JSON object
    return LogEvent(at_ms, line)


def _access_format(template: dict[str, Any]) -> str:
    found = [
        resource["Properties"]["AccessLogSetting"]["Format"]
        for resource in _walk(template)
        if isinstance(resource, dict) and "AccessLogSetting" in resource.get("Properties", {})
    ]
    [log_format] = found
    return str(log_format)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@pytest.fixture
def groups(deployment: Deployment, gumroad: test_reconcile.Gumroad, monkeypatch: pytest.MonkeyPatch) -> LogGroups:
    """A day in the life: sales, a refund, refused pings and requests, a retried and a dead-lettered message,
    three reconciliations (on, failed, off), and throttled requests."""
    logs = LogGroups()
    sale_id = new_sale_id()
    with logs.invocation("api"):
        assert deployment.ping(gumroad_body("sale", email=BUYER, sale_id=sale_id)).status_code == 200
        assert (
            deployment.ping(gumroad_body("sale", email="other@example.com", sale_id=new_sale_id())).status_code == 200
        )
    with logs.invocation("worker"):
        assert deployment.drain() == ["ok", "ok"]
    with logs.invocation("api"):
        assert deployment.ping(gumroad_body("refund", email=BUYER, sale_id=sale_id)).status_code == 200
        wrong = {"Authorization": "Basic Z3Vtcm9hZDp3cm9uZw==", "Content-Type": "application/x-www-form-urlencoded"}
        body = gumroad_body("sale", email="x@example.com", sale_id=new_sale_id())
        assert deployment.client.http.post("/gumroad/ping", headers=wrong, body=body).status_code == 401
        stranger = gumroad_body(
            "sale", email="x@example.com", sale_id=new_sale_id(), seller_id="Stranger0000000000000A=="
        )
        assert deployment.ping(stranger).status_code == 403
        assert deployment.ping("not=a&gumroad=ping").status_code == 400
        assert deployment.client.http.get("/courses").status_code == 401
        for _ in range(2):
            assert (
                deployment.client.http.get("/courses", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
            )
    deployment.sandbox.faults.add(parse_fault({"status": 503, "count": 20, "paths": "/api/v2/"}))
    with logs.invocation("worker"):
        assert deployment.work_once() == "failed:RetryLater"
    deployment.sandbox.faults.clear()
    deployment.sqs.send_message(
        QueueUrl=deployment.queue_url, MessageBody="{garbage", MessageGroupId="g", MessageDeduplicationId="garbage"
    )
    with logs.invocation("worker"):
        assert deployment.drain()[-2:] == ["ok", "ok"]
    with logs.invocation("reconcile"):
        assert wiring.run_reconciliation(now=test_reconcile.NOW) is not None
    gumroad.refuse = True
    with logs.invocation("reconcile"), pytest.raises(ReconciliationIncomplete):
        wiring.run_reconciliation(now=test_reconcile.NOW)
    monkeypatch.delenv("GUMROAD_ACCESS_TOKEN")
    wiring.clear_caches()
    with logs.invocation("reconcile"):
        assert wiring.run_reconciliation(now=test_reconcile.NOW) is None
    minute = 1_764_417_600_000  # 2025-11-29T12:00:00Z
    logs.events["access"] += [
        access_log_line(at_ms=minute + 1_000, method="POST", route="/gumroad/ping", status=503, error="THROTTLED"),
        access_log_line(at_ms=minute + 2_000, method="GET", route="/courses", status=429, error="THROTTLED"),
        access_log_line(at_ms=minute + 3_000, method="GET", route="/courses", status=429, error="THROTTLED"),
        access_log_line(at_ms=minute + 4_000, method="GET", route="/courses", status=200, error="-"),
        access_log_line(at_ms=minute + 61_000, method="GET", route="/courses", status=429, error="THROTTLED"),
    ]
    return logs


def documented_queries() -> list[Block]:
    return fenced_blocks("logs-insights")


def filter_of(query: str) -> str:
    """The query's filter and stats commands: what tells the documented queries apart."""
    return " | ".join(command for command in split_commands(query) if command.startswith(("filter", "stats")))


def log_groups_of(block: Block) -> list[str]:
    return sorted({match["name"] for match in GROUP.finditer(block.preface)})


def run(block: Block, groups: LogGroups) -> list[dict[str, Any]]:
    events = [event for name in log_groups_of(block) for event in groups.events[name]]
    return run_query(block.text, sorted(events, key=lambda event: event.timestamp_ms))


def _statuses(rows: list[dict[str, Any]]) -> list[int]:
    return sorted(int(row["status"]) for row in rows)


# What each documented query must return over the day above, keyed by its filter and stats commands.
PROMISES: dict[str, Any] = {
    'filter event = "ping_answered" and status >= 400': lambda rows: (
        _statuses(rows) == [400, 401, 403] and all(row.get("error") for row in rows)
    ),
    # Newest first: the sale, its processing, the refund, a retry (Auth0 answered 503), the refund applied.
    f'filter buyer = "{MASKED_BUYER}"': lambda rows: (
        [(row["event"], row["resource"], row["status"], row.get("outcome")) for row in reversed(rows)]
        == [
            ("ping_answered", "sale", 200, "queued"),
            ("ping_processed", "sale", 200, "processed"),
            ("ping_answered", "refund", 200, "queued"),
            ("ping_processed", "refund", 503, None),
            ("ping_processed", "refund", 200, "processed"),
        ]
    ),
    'filter event = "ping_processed" and status >= 400': lambda rows: (
        _statuses(rows) == [422, 503]
        and {row["error"] for row in rows} == {"malformed_message", "upstream_unavailable"}
    ),
    'filter event = "access_refused" | stats count() as refused by reason': lambda rows: (
        sorted((row["reason"], row["refused"]) for row in rows) == [("malformed", 2), ("no_credentials", 1)]
    ),
    'filter event in ["reconciliation_run", "reconciliation_failed", "reconciliation_off"]': lambda rows: (
        [row["event"] for row in reversed(rows)]
        == ["reconciliation_run", "reconciliation_failed", "reconciliation_off"]
        and rows[-1]["sales_read"] > 0
        and rows[1]["error"] == "gumroad_api_error"
        and rows[0]["reason"] == "no_gumroad_access_token"
    ),
    'filter error = "THROTTLED" | stats count() by route, bin(1m)': lambda rows: (
        sorted((row["route"], row["bin(1m)"], row["count()"]) for row in rows)
        == [
            ("/courses", 1_764_417_600_000, 2),
            ("/courses", 1_764_417_660_000, 1),
            ("/gumroad/ping", 1_764_417_600_000, 1),
        ]
    ),
}


def test_the_docs_hold_a_promise_for_every_query_and_a_query_for_every_promise() -> None:
    assert sorted(filter_of(block.text) for block in documented_queries()) == sorted(PROMISES)


def test_no_query_is_documented_outside_a_checked_block() -> None:
    # Inline queries (`filter ... | stats ...`) would escape the test below: every query lives in a block.
    from tests.documentation import documentation_pages

    for page in documentation_pages():
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
        assert not re.search(r"`[^`]*\|\s*(?:filter|stats|fields|sort)\b[^`]*`", text), page.name


def test_every_documented_query_reads_fields_its_log_groups_hold_and_returns_what_it_promises(
    groups: LogGroups,
) -> None:
    # One day of logs for all the queries (building it takes seconds); each failure names its query.
    failures = []
    for block in documented_queries():
        key = filter_of(block.text)
        names = log_groups_of(block)
        written = {field for name in names for event in groups.events[name] for field in discovered_fields(event)}
        rows = run(block, groups)
        if not names:
            failures.append(f"{key}: the paragraph above it names no log group")
        elif referenced_fields(block.text) - written:
            failures.append(f"{key}: reads fields no line has: {sorted(referenced_fields(block.text) - written)}")
        elif not rows:
            failures.append(f"{key}: finds nothing")
        elif not PROMISES[key](rows):
            failures.append(f"{key}: returned {rows}")

    assert failures == []


def test_the_query_the_docs_used_to_show_finds_nothing_in_the_same_logs(groups: LogGroups) -> None:
    # Issue 19: it filtered on fields the service never wrote (message, source).
    old = (
        "fields @timestamp, source, status, outcome, reason, error, detail, sale_id, buyer"
        ' | filter message = "gumroad ping" and status >= 400 | sort @timestamp desc'
    )
    events = groups.events["api"] + groups.events["worker"]

    assert run_query(old, events) == []
    assert {"source", "message"} & {field for event in events for field in discovered_fields(event)} == set()
