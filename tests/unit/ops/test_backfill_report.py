"""What `ops backfill` tells the operator: option errors, the dry run's words, per-product counts, an estimate."""

from __future__ import annotations

import pytest
import responses

from ops.backfill import Planned
from ops.backfill_report import duration, estimate
from sandbox.server import SandboxServer
from tests.unit.ops.test_backfill import (
    HANDBOOK_PRODUCT,
    MEMBERSHIP_PRODUCT,
    gumroad,
    membership_sale,
    pages,
    run_ops,
    sale,
    sandbox,
)

__all__ = ["gumroad", "sandbox"]  # the fixtures, shared with the backfill tests


def test_a_malformed_date_is_the_operators_option_not_a_misconfigured_service(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_ops(["backfill", "--after", "05/01/2021"], capsys)

    assert (code, out) == (2, "")
    assert err == "ops: invalid_option: --after must be a date written YYYY-MM-DD, not '05/01/2021'\n"


def test_a_dry_runs_progress_says_would_grant(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="reader@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [])

    code, _, err = run_ops(["backfill"], capsys)

    progress = [line for line in err.splitlines() if line.startswith("backfill [")]
    assert code == 0
    assert progress
    assert all("would grant 1" in line or "would grant 0" in line for line in progress)
    assert not any(" granted " in line for line in progress)


def test_each_products_count_is_its_own_not_the_running_total(
    gumroad: responses.RequestsMock, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="reader@example.com")])
    pages(
        gumroad,
        MEMBERSHIP_PRODUCT,
        [membership_sale(id="Member00000000000000Aa=="), membership_sale(id="Member00000000000000Bb==")],
    )

    _, _, err = run_ops(["backfill"], capsys)

    assert f"read the sales of {HANDBOOK_PRODUCT}: 1 sale (1 in all)" in err
    assert f"read the sales of {MEMBERSHIP_PRODUCT}: 2 sales (3 in all)" in err


def test_the_estimate_comes_before_the_first_auth0_call(
    gumroad: responses.RequestsMock,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTH0_RATE_LIMIT_PER_SECOND", "2")
    pages(gumroad, HANDBOOK_PRODUCT, [sale(purchase_email="reader@example.com")])
    pages(gumroad, MEMBERSHIP_PRODUCT, [])

    _, _, err = run_ops(["backfill", "--apply"], capsys)

    lines = err.splitlines()
    [line] = [index for index, text in enumerate(lines) if text.startswith("backfill: 1 sales to fulfil")]
    assert "up to 3 Management API requests at 2/s (AUTH0_RATE_LIMIT_PER_SECOND)" in lines[line]
    assert line < min(index for index, text in enumerate(lines) if text.startswith("backfill ["))


def test_400_new_buyers_at_two_requests_a_second_take_about_ten_minutes() -> None:
    planned = [Planned({"id": f"sale-{n}"}) for n in range(400)] + [Planned({"id": "r"}, skip="refunded")]

    text = estimate(planned, apply=True, rate=2.0)

    assert text.startswith("backfill: 400 sales to fulfil, 1 skipped without a call; up to 1200 Management API")
    assert "about 10 min at most" in text


def test_without_a_configured_rate_the_free_tenants_is_assumed_and_said() -> None:
    text = estimate([Planned({"id": "a"})], apply=False, rate=None)

    assert "up to 2 Management API requests at 2/s (assumed: a free tenant" in text


@pytest.mark.parametrize(
    ("seconds", "said"), [(20, "under a minute"), (600, "about 10 min"), (7500, "about 2 h 5 min")]
)
def test_durations_read_as_a_person_would_say_them(seconds: float, said: str) -> None:
    assert duration(seconds) == said
