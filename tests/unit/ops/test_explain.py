"""`ops explain EMAIL`: every user of the address, who holds its purchases, per course the role, the purchases
behind it and any disagreement with its repair, and what the student must do."""

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
from sandbox.tenant.seeding import seed_user
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
    assert f"customer@example.com: 1 Auth0 user; the record holder is {USER_ID}" in out
    assert f"Auth0 user {USER_ID} (Username-Password-Authentication, customer@example.com): RECORD HOLDER" in out
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
    answer = json.loads(out)
    assert {key: answer[key] for key in ("email", "found", "user_id", "courses", "users")} == {
        "email": "nobody@example.com",
        "found": False,
        "user_id": None,
        "courses": [],
        "users": [],
    }
    assert answer["advice"][0].startswith("No Auth0 user has nobody@example.com")


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
    seed_user(
        sandbox.tenant,
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
        email_verified=True,  # a buyer from before the holder's mark: the set-password e-mail verified the address
    )

    code = ops(["--stage", "local", "explain", "member@example.com"])
    out = capsys.readouterr().out

    assert code == 1
    assert f"membership {SUBSCRIPTION_ID} (first charge {SALE_ID})" in out
    assert "DISAGREES: purchase" in out
    assert f".venv/bin/python -m ops --stage local backfill --product {MEMBERSHIP_PRODUCT} --after 2021-01-05" in out


# --- every user of the address (sign-in methods) ---------------------------------------------------------


def seed(sandbox: SandboxServer, email: str, connection: str, **fields: Any) -> str:
    user = seed_user(sandbox.tenant, email=email, connection=connection, password=None, role_ids=[], **fields)
    return user.user_id


def test_every_user_of_the_address_is_listed_with_who_holds_the_purchases_and_what_the_student_must_do(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="alice@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [])
    assert run_ops(["backfill", "--apply"], capsys)[0] == 0  # the service makes alice's database user
    [holder] = [user for user in sandbox.tenant.describe()["users"] if user["email"] == "alice@example.com"]
    code_user = seed(sandbox, "alice@example.com", "email", app_metadata=None)
    sandbox.tenant.link_identity(holder["user_id"], provider="email", user_id=code_user)
    google = seed(sandbox, "alice@example.com", "google-oauth2", app_metadata=None, email_verified=False)
    sandbox.stats.reset()

    code, out = explain(["alice@example.com"], capsys)

    assert code == 0
    assert f"alice@example.com: 2 Auth0 users; the record holder is {holder['user_id']}" in out
    assert (
        f"Auth0 user {holder['user_id']} (Username-Password-Authentication, alice@example.com): RECORD HOLDER, "
        "made by the service, address NOT verified"
    ) in out
    assert f"  linked identities: {code_user}" in out
    assert "serverless-handbook (Serverless Handbook, role rol_LocalServerless01): HAS ACCESS (role held)" in out
    assert (
        f"Auth0 user {google} (google-oauth2, alice@example.com): not made by the service, address NOT verified, "
        "may not hold purchases (its address is not verified)\n  holds no purchase and no course role"
    ) in out
    assert "Sign in with a password once they set it: the set-password e-mail went out at the purchase" in out
    assert f"{google}: Google has not verified this address, so that Google sign-in opens nothing" in out
    requests = sandbox.stats.snapshot()["requests"]
    assert all(endpoint.startswith("GET ") or endpoint == "POST /oauth/token" for endpoint in requests)


def test_a_purchase_held_for_a_registered_address_says_a_code_takes_it_and_is_no_disagreement(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    held = {**metadata("serverless-handbook", "rol_LocalServerless01", handbook(), role_assigned=False)}
    registered = seed(
        sandbox, "dan@example.com", "Username-Password-Authentication", app_metadata={**held, "purchase_held": {"v": 1}}
    )

    code = ops(["explain", "dan@example.com", "--json"])
    answer = json.loads(capsys.readouterr().out)

    assert code == 0  # a held purchase is ungranted on purpose
    assert answer["user_id"] is None  # nobody may hold it yet
    [user] = answer["users"]
    assert (user["user_id"], user["may_hold_purchases"], user["why_not"], user["purchase_held"]) == (
        registered,
        False,
        "connection_not_trusted",
        True,
    )
    assert "A purchase is held there: signing in with Email me a code takes it." in answer["advice"][0]


def test_a_course_role_on_a_user_that_may_not_hold_purchases_is_a_disagreement(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_user(
        sandbox.tenant,
        email="eve@example.com",
        connection="google-oauth2",
        password=None,
        role_ids=["rol_LocalServerless01"],  # given by hand to an unverified Google account
        app_metadata=None,
        email_verified=False,
    )

    code, out = explain(["eve@example.com"], capsys)

    assert code == 1
    assert "DISAGREES: the role is held by a user that may not hold purchases" in out
    assert "Roles: remove rol_LocalServerless01" in out
