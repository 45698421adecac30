"""`ops explain EMAIL`: per course, the role, the purchases behind it, and any disagreement with its repair."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import responses

from chalicelib.purchases.records import CourseRecord, PurchaseState, record_key
from ops.__main__ import main as ops
from ops.__main__ import parser
from sandbox.server import SandboxServer
from tests.auth0_replay import USER_ID, Auth0Replay, fixture, found_user
from tests.purchase_support import MEMBERSHIP_ROLE, SERVERLESS_ROLE, mock_token_endpoint, set_purchase_env
from tests.unit.ops.test_backfill import (
    ACCESS_TOKEN,
    HANDBOOK_PRODUCT,
    MEMBERSHIP_PRODUCT,
    gumroad,
    pages,
    run_ops,
    sale,
    sandbox,
)

__all__ = ["gumroad", "sandbox"]  # the sandbox fixtures, shared with the backfill tests

ROLES_PATH = f"/users/{USER_ID}/roles"
SALE_ID = "FO8TXN-dbxYaBdahG97Y-Q=="
REFUNDED_ID = "Refunded000000000000Aa=="
SUBSCRIPTION_ID = "GazW4_NBcQy-o7Gjjng7lw=="


def handbook(sale_id: str = SALE_ID, **changes: Any) -> PurchaseState:
    return PurchaseState(
        purchase_id=sale_id,
        sale_id=sale_id,
        product_id=HANDBOOK_PRODUCT,
        purchased_at="2021-01-05T19:38:56Z",
        **changes,
    )


def metadata(slug: str, role_id: str, *purchases: PurchaseState, role_assigned: bool = True) -> dict[str, Any]:
    record = CourseRecord(slug=slug, role_id=role_id, purchases=purchases, role_assigned=role_assigned)
    return {record_key(slug): record.to_json()}


def roles(*held: str) -> dict[str, Any]:
    """``GET /users/{id}/roles`` (the recorded page) holding exactly ``held``."""
    body: dict[str, Any] = fixture("user_roles.json")
    template = body["roles"][0]
    body["roles"] = [{**template, "id": role_id} for role_id in held]
    body["total"] = len(held)
    return body


@pytest.fixture
def auth0(monkeypatch: pytest.MonkeyPatch, auth0_replay: Auth0Replay) -> Iterator[Auth0Replay]:
    set_purchase_env(monkeypatch)
    with responses.RequestsMock() as mock:
        mock_token_endpoint(mock)
        yield auth0_replay


@pytest.fixture
def restored_environ() -> Iterator[None]:
    """``--stage`` fills unset variables into os.environ: undo that after the test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def explain(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = ops(["explain", *args])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def test_an_active_purchase_with_its_role_agrees_and_names_the_purchase(
    auth0: Auth0Replay, capsys: pytest.CaptureFixture[str]
) -> None:
    auth0.reply(
        "GET",
        "/users-by-email",
        body=found_user(app_metadata=metadata("serverless-handbook", SERVERLESS_ROLE, handbook())),
    )
    auth0.reply("GET", ROLES_PATH, body=roles(SERVERLESS_ROLE))
    auth0.reply("GET", ROLES_PATH, body=roles(SERVERLESS_ROLE))

    code, out = explain(["Customer@Example.com"], capsys)

    assert code == 0
    assert f"customer@example.com: Auth0 user {USER_ID}" in out
    assert f"serverless-handbook (Serverless Handbook, role {SERVERLESS_ROLE}): HAS ACCESS (role held)" in out
    assert f"sale {SALE_ID}, product {HANDBOOK_PRODUCT}: active, bought 2021-01-05T19:38:56Z  <- grants access" in out
    assert f"pro-membership (Pro Membership, role {MEMBERSHIP_ROLE}): no access (role not held)" in out
    assert "role and record agree for every course" in out
    assert auth0.writes == []
    auth0.assert_finished()


def test_a_refund_says_it_removed_access(auth0: Auth0Replay, capsys: pytest.CaptureFixture[str]) -> None:
    record = metadata("serverless-handbook", SERVERLESS_ROLE, handbook(REFUNDED_ID, refunded=True), role_assigned=False)
    auth0.reply("GET", "/users-by-email", body=found_user(app_metadata=record))
    auth0.reply("GET", ROLES_PATH, body=roles())
    auth0.reply("GET", ROLES_PATH, body=roles())

    code, out = explain(["customer@example.com"], capsys)

    assert code == 0
    assert f"sale {REFUNDED_ID}, product {HANDBOOK_PRODUCT}: refunded, bought 2021-01-05T19:38:56Z" in out
    assert f"access removed by: refund of {REFUNDED_ID}" in out


def test_an_active_purchase_without_its_role_disagrees_and_names_the_backfill_that_repairs_it(
    auth0: Auth0Replay, capsys: pytest.CaptureFixture[str]
) -> None:
    auth0.reply(
        "GET",
        "/users-by-email",
        body=found_user(app_metadata=metadata("serverless-handbook", SERVERLESS_ROLE, handbook())),
    )
    auth0.reply("GET", ROLES_PATH, body=roles())
    auth0.reply("GET", ROLES_PATH, body=roles())

    code, out = explain(["customer@example.com"], capsys)

    assert code == 1
    assert f"DISAGREES: purchase {SALE_ID} grants access but the role is not held" in out
    assert (
        f"fix: .venv/bin/python -m ops backfill --product {HANDBOOK_PRODUCT} --after 2021-01-05 --before 2021-01-06 "
        "--apply" in out
    )
    assert "1 course(s) disagree" in out


def test_repair_commands_for_ids_that_start_with_a_dash_are_written_so_that_they_parse(
    auth0: Auth0Replay, capsys: pytest.CaptureFixture[str]
) -> None:
    # Gumroad's ids are URL-safe base64: one in 64 starts with '-', which argparse would take for an option.
    sale_id, product_id = "-Q8TXNdbxYaBdahG97YsQg==", "-MGYpJr5kZsPvoNqU1lDwA=="
    purchase = replace(handbook(sale_id), product_id=product_id)
    auth0.reply(
        "GET",
        "/users-by-email",
        body=found_user(app_metadata=metadata("serverless-handbook", SERVERLESS_ROLE, purchase)),
    )
    auth0.reply("GET", ROLES_PATH, body=roles())
    auth0.reply("GET", ROLES_PATH, body=roles())

    code, out = explain(["customer@example.com"], capsys)

    assert code == 1
    [fix] = [line for line in out.splitlines() if line.strip().startswith("fix:")]
    backfill, rerun = re.findall(r"\.venv/bin/python -m ops ((?:backfill|rerun) [^;]*--apply)", fix)
    assert backfill == f"backfill --product={product_id} --after 2021-01-05 --before 2021-01-06 --apply"
    assert rerun == f"rerun --sale-id={sale_id} --apply"
    assert parser().parse_args(shlex.split(backfill)).product == [product_id]
    assert parser().parse_args(shlex.split(rerun)).sale_id_option == sale_id


def test_a_role_left_after_a_refund_disagrees_and_says_where_to_remove_it(
    auth0: Auth0Replay, capsys: pytest.CaptureFixture[str]
) -> None:
    record = metadata("serverless-handbook", SERVERLESS_ROLE, handbook(refunded=True))
    auth0.reply("GET", "/users-by-email", body=found_user(app_metadata=record))
    auth0.reply("GET", ROLES_PATH, body=roles(SERVERLESS_ROLE))
    auth0.reply("GET", ROLES_PATH, body=roles(SERVERLESS_ROLE))

    code, out = explain(["customer@example.com", "--json"], capsys)

    assert code == 1
    [handbook_answer, membership_answer] = json.loads(out)["courses"]
    assert handbook_answer["role_held"] is True
    assert handbook_answer["agrees"] is False
    assert handbook_answer["granted_by"] is None
    assert handbook_answer["removed_by"][0]["status"] == "refunded"
    assert f"Roles: remove {SERVERLESS_ROLE}" in handbook_answer["repair"]
    assert membership_answer["agrees"] is True  # no purchase, no role: a hand-granted role would show here


def test_an_unknown_address_says_so(auth0: Auth0Replay, capsys: pytest.CaptureFixture[str]) -> None:
    auth0.reply("GET", "/users-by-email", body=[])

    code, out = explain(["nobody@example.com", "--json"], capsys)

    assert code == 1
    assert json.loads(out) == {"email": "nobody@example.com", "found": False, "user_id": None, "courses": []}


def test_after_a_backfill_the_sandbox_buyer_is_explained_by_that_sale(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="reader@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [])
    assert run_ops(["backfill", "--apply"], capsys)[0] == 0
    sandbox.stats.reset()

    code = ops(["explain", "reader@example.com", "--json"])
    answer = json.loads(capsys.readouterr().out)

    assert code == 0
    handbook_answer = answer["courses"][0]
    assert handbook_answer["course"] == "serverless-handbook"
    assert handbook_answer["role_held"] is True
    assert handbook_answer["granted_by"]["sale_id"] == "FO8TXN-dvxYabdavG97Y-Q=="
    assert [course["agrees"] for course in answer["courses"]] == [True, True]
    requests = sandbox.stats.snapshot()["requests"]
    assert all(endpoint.startswith("GET ") or endpoint == "POST /oauth/token" for endpoint in requests)
    assert ACCESS_TOKEN not in json.dumps(answer)


def test_a_role_removed_by_hand_in_the_sandbox_is_a_disagreement(
    gumroad: responses.RequestsMock,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    restored_environ: None,
) -> None:
    sandbox.tenant.seed_user(
        email="member@example.com",
        connection="Username-Password-Authentication",
        password=None,
        role_ids=[],
        app_metadata=metadata(
            "pro-membership",
            "rol_LocalMembership2",
            PurchaseState(
                purchase_id=SUBSCRIPTION_ID,
                sale_id=SALE_ID,
                subscription_id=SUBSCRIPTION_ID,
                product_id=MEMBERSHIP_PRODUCT,
                purchased_at="2021-01-05T19:38:56Z",
            ),
        ),
    )

    code = ops(["--stage", "local", "explain", "member@example.com"])
    out = capsys.readouterr().out

    assert code == 1
    assert f"membership {SUBSCRIPTION_ID} (first charge {SALE_ID})" in out
    assert "DISAGREES: purchase" in out
    assert f".venv/bin/python -m ops --stage local backfill --product {MEMBERSHIP_PRODUCT} --after 2021-01-05" in out
