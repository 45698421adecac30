"""`ops resend EMAIL`: the set-password e-mail again through the service's onboarding path, against the sandbox."""

from __future__ import annotations

import pytest
import responses

from chalicelib.purchases.records import PurchaseState
from ops.__main__ import main as ops
from sandbox.server import SandboxServer
from sandbox.tenant.seeding import seed_user
from tests.unit.ops.test_backfill import gumroad, sandbox
from tests.unit.ops.test_explain import handbook, metadata

__all__ = ["gumroad", "sandbox"]  # the sandbox fixtures, shared with the backfill tests

CONNECTION = "Username-Password-Authentication"
BUYER = "reader@example.com"
HANDBOOK_ROLE = "rol_LocalServerless01"


def seed(sandbox: SandboxServer, email: str, *purchases: PurchaseState) -> str:
    app_metadata = metadata("serverless-handbook", HANDBOOK_ROLE, *purchases) if purchases else None
    user = seed_user(
        sandbox.tenant, email=email, connection=CONNECTION, password=None, role_ids=[], app_metadata=app_metadata
    )
    return str(user.user_id)


def outbox(sandbox: SandboxServer) -> list[dict[str, object]]:
    return list(sandbox.tenant.outbox.messages)


def test_a_dry_run_names_the_buyer_and_their_courses_and_sends_nothing(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = seed(sandbox, BUYER, handbook())

    code = ops(["resend", "Reader@Example.com"])
    out = capsys.readouterr().out

    assert code == 0
    assert f"{BUYER}: Auth0 user {user_id} in the connection {CONNECTION}" in out
    assert "bought serverless-handbook; access: serverless-handbook" in out
    assert "dry run: nothing sent; add --apply" in out
    assert outbox(sandbox) == []


def test_applied_it_puts_one_set_password_message_for_the_buyer_in_the_outbox(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = seed(sandbox, BUYER, handbook())

    code = ops(["resend", BUYER, "--apply"])
    out = capsys.readouterr().out

    assert code == 0
    assert f"sent: Auth0 accepted the request; {BUYER} gets an e-mail" in out
    [message] = outbox(sandbox)
    assert (message["kind"], message["to"], message["user_id"]) == ("password_reset", BUYER, user_id)
    assert str(message["ticket_url"]).startswith(f"{sandbox.base_url}/lo/reset?ticket=")


def test_a_refunded_buyer_still_gets_the_e_mail_and_is_told_no_course_grants_access(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sandbox, BUYER, handbook(refunded=True))

    assert ops(["resend", BUYER, "--apply"]) == 0

    assert "access: none now (refunded, disputed or ended)" in capsys.readouterr().out
    assert [message["to"] for message in outbox(sandbox)] == [BUYER]


@pytest.mark.parametrize(
    ("queue", "reached"),
    [
        (None, "the service's log"),  # the local stage processes each ping as it arrives: no dead-letter queue
        ("https://sqs.us-east-1.amazonaws.com/123456789012/gumroad-pings.fifo", ".venv/bin/python -m ops dlq show"),
    ],
)
def test_an_address_without_a_database_user_says_so_and_sends_nothing(
    gumroad: responses.RequestsMock,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    queue: str | None,
    reached: str,
) -> None:
    if queue is not None:
        monkeypatch.setenv("PING_QUEUE_URL", queue)
    seed_user(
        sandbox.tenant,
        email="social@example.com",
        connection="google-oauth2",
        password=None,
        role_ids=[],
        app_metadata=None,
    )

    for address in ("nobody@example.com", "social@example.com"):
        assert ops(["resend", address, "--apply"]) == 1
        out = capsys.readouterr().out
        assert f"{address}: no database user with this address in the connection {CONNECTION}; no e-mail sent" in out
        assert (
            f"whether the sale reached the service ({reached}); then .venv/bin/python -m ops explain {address}" in out
        )
        assert ("its other users sign in without a password: google-oauth2|" in out) == (address.startswith("social"))
    assert outbox(sandbox) == []


def test_a_database_user_with_no_purchase_is_not_a_buyer_and_gets_nothing(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = seed(sandbox, BUYER)

    assert ops(["resend", BUYER, "--apply"]) == 1

    assert f"Auth0 user {user_id} has no purchase recorded: not a buyer" in capsys.readouterr().out
    assert outbox(sandbox) == []


@pytest.mark.parametrize(("status", "code"), [(400, "upstream_rejected"), (503, "upstream_unavailable")])
def test_auth0_refusing_the_e_mail_exits_2_with_its_status_and_never_the_address(
    gumroad: responses.RequestsMock,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    status: int,
    code: str,
) -> None:
    seed(sandbox, BUYER, handbook())
    gumroad.add(
        responses.POST,
        f"{sandbox.base_url}/dbconnections/change_password",
        status=status,
        json={"error": "bad.connection", "error_description": "refused"},
    )

    assert ops(["resend", BUYER, "--apply"]) == 2

    err = capsys.readouterr().err
    assert f"ops: {code}: Auth0 answered {status} (bad.connection)" in err
    assert BUYER not in err
    assert outbox(sandbox) == []
