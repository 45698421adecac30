"""Operator commands against a dead-letter queue (moto) and the Auth0 sandbox."""

from __future__ import annotations

import json

import pytest

from ops.__main__ import main as ops
from tests.integration.harness import HANDBOOK, gumroad_body, new_sale_id
from tests.integration.test_queue import Deployment, deployment, role_names

__all__ = ["deployment"]  # the fixture, shared with the queue journeys

ROLE_ID = "rol_LocalServerless01"


def sale_id_starting_with(first: str) -> str:
    """A fresh sale id, URL-safe base64 as Gumroad's are, whose first character is ``first``: one in 64 starts with
    '-', which a command line reads as an option, so each test says which kind it runs with."""
    return first + new_sale_id()[1:]


def dead_letter_a_sale(deployment: Deployment, email: str, *, sale_id: str | None = None) -> str:
    """A sale whose role is missing in Auth0: the worker dead-letters it at once."""
    role = deployment.sandbox.tenant.roles.pop(ROLE_ID)
    sale_id = sale_id or new_sale_id()
    deployment.ping(gumroad_body("sale", email=email, sale_id=sale_id))
    assert deployment.drain()[-1] == "ok"
    deployment.sandbox.tenant.roles[ROLE_ID] = role  # the operator fixes the role in Auth0
    return sale_id


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_dlq_show_lists_each_dead_letter_with_its_reason_and_a_masked_buyer(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    sale_id = dead_letter_a_sale(deployment, "stuck@example.com")

    assert ops(["dlq", "show"]) == 0

    [line] = lines(capsys.readouterr().out)
    assert line["sale_id"] == sale_id
    assert line["buyer"] == "s***k@example.com"
    assert ROLE_ID in str(line["reason"])
    assert len(deployment.dead_letters()) == 1, "show changes nothing"


def test_dlq_redrive_is_a_dry_run_until_applied_then_the_worker_completes_the_sale(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    dead_letter_a_sale(deployment, "redriven@example.com")

    assert ops(["dlq", "redrive"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert len(deployment.dead_letters()) == 1

    assert ops(["dlq", "redrive", "--apply"]) == 0
    assert "moved back" in capsys.readouterr().out
    assert deployment.dead_letters() == []
    assert deployment.drain()[-1] == "ok"
    assert role_names(deployment, "redriven@example.com") == [f"course:{HANDBOOK}"]


def test_rerun_sends_one_sales_dead_letters_through_the_queue_and_the_worker_completes_them(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    sale_id = dead_letter_a_sale(deployment, "rerun@example.com", sale_id=sale_id_starting_with("R"))

    assert ops(["rerun", sale_id]) == 0
    assert "dry run" in capsys.readouterr().out
    assert role_names(deployment, "rerun@example.com") == []

    assert ops(["rerun", sale_id, "--apply"]) == 0

    [line] = lines(capsys.readouterr().out)
    assert str(line["action"]).startswith("queued for the worker")
    assert role_names(deployment, "rerun@example.com") == [], "nothing written to Auth0 beside the worker"
    assert deployment.dead_letters() == []
    assert deployment.drain()[-1] == "ok"
    assert role_names(deployment, "rerun@example.com") == [f"course:{HANDBOOK}"]


def test_rerun_without_a_work_queue_fulfils_the_sale_itself(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sale_id = dead_letter_a_sale(deployment, "rerun-here@example.com", sale_id=sale_id_starting_with("R"))
    monkeypatch.delenv("PING_QUEUE_URL")

    assert ops(["rerun", sale_id, "--apply"]) == 0

    [line] = lines(capsys.readouterr().out)
    assert line["action"] == "re-run"
    assert role_names(deployment, "rerun-here@example.com") == [f"course:{HANDBOOK}"]
    assert deployment.dead_letters() == []


def test_a_sale_id_that_starts_with_a_dash_is_rerun_given_as_an_option_or_after_a_double_dash(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    sale_id = dead_letter_a_sale(deployment, "dashed@example.com", sale_id=sale_id_starting_with("-"))

    assert ops(["rerun", f"--sale-id={sale_id}"]) == 0
    [planned] = lines(capsys.readouterr().out)
    assert (planned["sale_id"], planned["action"]) == (sale_id, "would re-run (dry run; add --apply)")

    assert ops(["rerun", "--apply", "--", sale_id]) == 0

    [line] = lines(capsys.readouterr().out)
    assert str(line["action"]).startswith("queued for the worker")
    assert deployment.dead_letters() == []
    assert deployment.drain()[-1] == "ok"
    assert role_names(deployment, "dashed@example.com") == [f"course:{HANDBOOK}"]


def test_rerun_of_an_unknown_sale_says_so(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    assert ops(["rerun", "NoSuchSale000000000000=="]) == 1
    assert "no dead letter" in capsys.readouterr().out


def test_a_redriven_message_re_reads_the_buyers_roles_instead_of_trusting_the_record(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # The worker dies after creating the buyer (whose record already says "role assigned"), then
    # dies again on every redelivery until SQS's redrive policy moves the message to the DLQ.
    deployment.ping(gumroad_body("sale", email="half-done@example.com", sale_id=new_sale_id()))
    deployment.transport.kill_after = deployment.transport.answered + 2
    assert deployment.work_once() == "killed"
    while True:
        deployment.transport.kill_after = deployment.transport.answered + 1
        if deployment.work_once() is None:
            break
    assert len(deployment.dead_letters()) == 1, "the redrive policy moved it to the dead-letter queue"
    assert role_names(deployment, "half-done@example.com") == [], "created, role never assigned"
    record = deployment.users_with("half-done@example.com")[0]["app_metadata"][f"gumroad_{HANDBOOK}"]
    assert record["role_assigned"] is True, "the record is not to be trusted"
    deployment.transport.kill_after = None

    assert ops(["dlq", "redrive", "--apply"]) == 0
    capsys.readouterr()
    before = deployment.sandbox.stats.snapshot()["requests"].get("GET /api/v2/users/{id}/roles", 0)
    assert deployment.drain()[-1] == "ok"

    after = deployment.sandbox.stats.snapshot()["requests"].get("GET /api/v2/users/{id}/roles", 0)
    assert after == before + 1, "the worker read the buyer's roles"
    assert role_names(deployment, "half-done@example.com") == [f"course:{HANDBOOK}"]
