"""One structured JSON line per ping: only the fields that are set, masked buyer addresses, the level by status."""

from __future__ import annotations

import json
import logging
from dataclasses import fields

import pytest

from chalicelib.logs import mask_email
from chalicelib.purchases.ping_log import MASKED, PingLogLine, loggable_id

LOGGER = "gumroad_auth0.ping"


def line_with(name: str, value: str) -> PingLogLine:
    line = PingLogLine(status=200)
    setattr(line, name, value)
    return line


def emitted(caplog: pytest.LogCaptureFixture, line: PingLogLine) -> tuple[logging.LogRecord, dict[str, object]]:
    caplog.set_level(logging.INFO, logger=LOGGER)
    line.emit()
    records = [record for record in caplog.records if record.name == LOGGER]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "\n" not in message
    document = json.loads(message)
    assert isinstance(document, dict)
    return records[0], document


def test_a_ping_line_is_one_json_line_with_only_the_fields_that_are_set(caplog: pytest.LogCaptureFixture) -> None:
    line = PingLogLine(
        status=200,
        outcome="processed",
        resource="sale",
        sale_id="FO8TXN-dbxYaBdahG97Y-Q==",
        product_id="32-nPAicqbLj8B_WswVlMw==",
        course="serverless-handbook",
        buyer=mask_email("customer@example.com"),
        changes=["user_created", "role_assigned"],
        auth0_calls=3,
        duration_ms=41.5,
    )

    record, document = emitted(caplog, line)

    assert record.levelno == logging.INFO
    unset = {field.name for field in fields(PingLogLine) if getattr(line, field.name) is None}
    assert unset  # reason, error, subscription_id... stay out of the line
    assert unset.isdisjoint(document)
    assert (document.pop("level"), document.pop("logger")) == ("info", "gumroad_auth0.ping")
    assert str(document.pop("timestamp")).endswith("Z")
    assert document == {
        "event": "ping_answered",
        "status": 200,
        "outcome": "processed",
        "resource": "sale",
        "sale_id": "FO8TXN-dbxYaBdahG97Y-Q==",
        "product_id": "32-nPAicqbLj8B_WswVlMw==",
        "course": "serverless-handbook",
        "buyer": "c***r@example.com",
        "changes": ["user_created", "role_assigned"],
        "auth0_calls": 3,
        "auth0_throttled": 0,
        "duration_ms": 41.5,
    }


def test_a_line_for_a_rejected_ping_carries_its_error_code(caplog: pytest.LogCaptureFixture) -> None:
    record, document = emitted(caplog, PingLogLine(status=401, error="unauthorized"))

    assert record.levelno == logging.INFO
    assert document["error"] == "unauthorized"
    assert "outcome" not in document
    assert "buyer" not in document


def test_a_line_for_a_5xx_answer_is_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    record, document = emitted(caplog, PingLogLine(status=503, error="upstream_unavailable"))

    assert record.levelno == logging.ERROR
    assert document["status"] == 503


def test_a_zero_count_is_kept_while_none_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    _, document = emitted(caplog, PingLogLine(status=200, retry_count=None, auth0_calls=0))

    assert document["auth0_calls"] == 0
    assert "retry_count" not in document


# --- the ping's own fields: logged only in the shape Gumroad gives them ------------------------

HOSTILE = [
    "victim@example.com",
    "victim%40example.com",
    "FO8TXN-dbxYaBdahG97Y-Q== victim@example.com",
    "FO8TXN-dbxYaBdahG97Y-Q=",  # one character short
    "FO8TXN+dbxYaBdahG97Y/Q==",  # standard base64, not Gumroad's URL-safe alphabet
    "FO8TXN-dbxYaBdahG97Y-Q==\n",
    "x" * 200,
    "<script>",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["seller_id", "sale_id", "subscription_id", "product_id"])
def test_an_id_without_gumroads_shape_is_masked(caplog: pytest.LogCaptureFixture, name: str, value: str) -> None:
    _, document = emitted(caplog, line_with(name, value))

    assert document[name] == MASKED
    assert "victim" not in caplog.text


@pytest.mark.parametrize("value", ["victim@example.com", "Sale", "sale ", "refunds", "x" * 64])
def test_a_resource_name_gumroad_does_not_have_is_masked(caplog: pytest.LogCaptureFixture, value: str) -> None:
    _, document = emitted(caplog, line_with("resource", value))

    assert document["resource"] == MASKED
    assert "victim" not in caplog.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("seller_id", "kL0psVL2admJSYRNs-OCMg=="),
        ("sale_id", "FO8TXN-dbxYaBdahG97Y-Q=="),
        ("subscription_id", "GazW4_NBcQy-o7Gjjng7lw=="),
        ("product_id", "32-nPAicqbLj8B_WswVlMw=="),
        ("resource", "subscription_restarted"),
        ("resource", "test"),
    ],
)
def test_gumroads_own_ids_and_resource_names_are_logged_as_they_are(
    caplog: pytest.LogCaptureFixture, name: str, value: str
) -> None:
    _, document = emitted(caplog, line_with(name, value))

    assert document[name] == value


def test_an_id_left_unset_stays_out_of_the_line(caplog: pytest.LogCaptureFixture) -> None:
    _, document = emitted(caplog, PingLogLine(status=400, error="malformed_ping"))

    assert {"resource", "seller_id", "sale_id", "subscription_id", "product_id"}.isdisjoint(document)


@pytest.mark.parametrize("value", [None, *HOSTILE])
def test_loggable_id_keeps_nothing_of_a_value_that_is_not_an_id(value: str | None) -> None:
    assert loggable_id(value) in (None, MASKED)
