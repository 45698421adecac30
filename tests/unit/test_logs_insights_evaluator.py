"""The Logs Insights subset the docs' queries are checked with (tests/logs_insights.py) means what AWS's does."""

from __future__ import annotations

import json

import pytest

from tests.logs_insights import LogEvent, Unsupported, discovered_fields, lambda_line, referenced_fields, run_query

MINUTE = 1_764_417_600_000


def event(at: int, **fields: object) -> LogEvent:
    line = lambda_line(json.dumps(fields), level="INFO", timestamp_ms=at, request_id="8f5e4b2a-1c3d-4e5f-a6b7")
    return LogEvent(at, line)


EVENTS = [
    event(MINUTE + 1, event="ping_answered", status=200, buyer="c***r@example.com", changes=["role_assigned"]),
    event(MINUTE + 2, event="ping_answered", status=401, error="unauthorized"),
    event(MINUTE + 61_000, event="ping_processed", status=503, nested={"sale": 2}),
    LogEvent(MINUTE + 3, "START RequestId: 8f5e4b2a Version: $LATEST"),
]


def test_the_first_json_object_of_a_lambda_line_is_discovered_flattened() -> None:
    fields = discovered_fields(EVENTS[0])

    assert fields["event"] == "ping_answered"
    assert fields["changes.0"] == "role_assigned"
    assert fields["@message"].startswith("[INFO]\t2025-11-29T12:00:00.1Z\t8f5e4b2a")
    assert "nested.sale" in discovered_fields(EVENTS[2])


def test_a_filter_on_a_field_an_event_lacks_never_matches_it() -> None:
    assert run_query('filter source = "ping"', EVENTS) == []
    assert len(run_query("filter status >= 400", EVENTS)) == 2


def test_numbers_compare_as_numbers_and_strings_exactly() -> None:
    assert [row["status"] for row in run_query("filter status > 250 | sort status asc", EVENTS)] == [401, 503]
    assert run_query('filter event = "Ping_answered"', EVENTS) == []
    assert len(run_query('filter event in ["ping_processed", "x"] or error like /author/', EVENTS)) == 2


def test_fields_project_and_sort_puts_the_newest_first() -> None:
    rows = run_query("fields @timestamp, status | filter ispresent(status) | sort @timestamp desc | limit 2", EVENTS)

    assert rows == [{"@timestamp": MINUTE + 61_000, "status": 503}, {"@timestamp": MINUTE + 2, "status": 401}]


def test_stats_counts_per_group_and_per_bin() -> None:
    rows = run_query("filter ispresent(event) | stats count() as n by event, bin(1m)", EVENTS)

    assert sorted((row["event"], row["bin(1m)"], row["n"]) for row in rows) == [
        ("ping_answered", MINUTE, 2),
        ("ping_processed", MINUTE + 60_000, 1),
    ]


@pytest.mark.parametrize("query", ["parse @message 'x*'", "stats avg(duration_ms)", "filter status =~ 3"])
def test_what_the_evaluator_does_not_know_is_refused_not_guessed(query: str) -> None:
    with pytest.raises(Unsupported):
        run_query(query, EVENTS)


def test_the_fields_a_query_reads_exclude_functions_literals_and_aliases() -> None:
    query = 'fields @timestamp, status | filter event = "a b" and x in ["y"] | stats count() as n by route, bin(1m)'

    assert referenced_fields(query) == {"@timestamp", "status", "event", "x", "route"}
