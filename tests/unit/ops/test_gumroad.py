"""`ops gumroad whoami`: the seller id from GET /v2/user, and whether the deployment's agrees."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

from chalicelib import wiring
from ops.__main__ import main as ops
from tests.purchase_support import SELLER_ID, form_body, recorded_body, set_purchase_env
from tests.unit.web.test_pings import Harness, harness

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad_api"
USER = "https://api.gumroad.com/v2/user"
ACCESS_TOKEN = "gumroad-oauth-token-for-tests-Xq9"
__all__ = ["harness"]  # the ping route's fixture


def user_body() -> Any:
    return json.loads((FIXTURES / "user.json").read_text(encoding="utf-8"))


@pytest.fixture
def gumroad(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    set_purchase_env(monkeypatch)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", ACCESS_TOKEN)
    wiring.clear_caches()
    with responses.RequestsMock() as mock:
        yield mock
    wiring.clear_caches()


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = ops(args)
    captured = capsys.readouterr()
    assert ACCESS_TOKEN not in captured.out + captured.err
    return code, captured.out, captured.err


def test_the_recorded_user_id_is_the_seller_id_pings_carry() -> None:
    # User#as_json's user_id and the ping's seller_id are both ObfuscateIds.encrypt(id) (antiwork/gumroad).
    assert user_body()["user"]["user_id"] == parse_qs(recorded_body("sale"))["seller_id"][0] == SELLER_ID


def test_whoami_prints_the_seller_id_and_how_to_deploy_with_it(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GUMROAD_SELLER_ID")
    gumroad.add(responses.GET, USER, json=user_body())

    code, out, _ = run(["gumroad", "whoami"], capsys)

    assert code == 0
    assert f"GUMROAD_SELLER_ID={SELLER_ID}" in out
    assert f"GumroadSellerId={SELLER_ID}" in out
    assert "7312845069021" not in out, "the account's external id is not the seller id"
    assert gumroad.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_whoami_confirms_a_deployment_with_the_same_seller_id(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, USER, json=user_body())

    code, out, _ = run(["gumroad", "whoami"], capsys)

    assert code == 0
    assert "its pings are accepted" in out


def test_whoami_flags_a_deployment_whose_seller_id_would_refuse_every_ping(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUMROAD_SELLER_ID", "SomeoneElse00000000000==")
    gumroad.add(responses.GET, USER, json=user_body())

    code, out, _ = run(["gumroad", "whoami"], capsys)

    assert code == 1
    assert "MISMATCH" in out
    assert f"GumroadSellerId={SELLER_ID}" in out


def test_whoami_with_a_refused_token_is_one_line(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, USER, status=401, json={"error": "invalid_token"})

    code, out, err = run(["gumroad", "whoami"], capsys)

    assert (code, out) == (2, "")
    assert err == (
        "ops: gumroad_api_error: Gumroad refused the access token (GET /v2/user: 401); check GUMROAD_ACCESS_TOKEN\n"
    )


def test_a_ping_refused_for_its_seller_logs_the_seller_id_it_carried(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # The other way to learn the seller id: the 403's log line (only after the ping secret matched).
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(form_body("sale", seller_id="TheRealSellerId0000000=="))

    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.ping"]
    assert response.status_code == 403
    assert line["status"] == 403
    assert line["seller_id"] == "TheRealSellerId0000000=="
