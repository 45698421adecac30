"""`ops ping-url`: the URL to paste into Gumroad, its ping secret masked unless asked for."""

from __future__ import annotations

import pytest

from chalicelib import wiring
from ops.__main__ import main as ops
from tests.purchase_support import PING_SECRET, set_purchase_env

PING_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping"


def test_ping_url_masks_the_secret_unless_asked_to_reveal_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_purchase_env(monkeypatch, GUMROAD_PING_SECRET="a-url-safe-ping-secret-for-tests-0123")
    monkeypatch.setenv("GUMROAD_PING_URL", PING_URL)
    wiring.clear_caches()

    assert ops(["ping-url"]) == 0
    masked = capsys.readouterr()
    assert masked.out == "https://gumroad:***@abc123.execute-api.eu-west-1.amazonaws.com/api/gumroad/ping\n"
    assert "--reveal" in masked.err

    assert ops(["ping-url", "--reveal"]) == 0
    assert capsys.readouterr().out == (
        "https://gumroad:a-url-safe-ping-secret-for-tests-0123@abc123.execute-api.eu-west-1.amazonaws.com"
        "/api/gumroad/ping\n"
    )
    wiring.clear_caches()


def test_ping_url_without_a_url_says_where_it_comes_from(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_purchase_env(monkeypatch)
    monkeypatch.delenv("GUMROAD_PING_URL", raising=False)

    assert ops(["ping-url"]) == 2
    captured = capsys.readouterr()
    assert "GUMROAD_PING_URL (the stack's GumroadPingUrl output; or --url) is not set" in captured.err
    assert PING_SECRET not in captured.out + captured.err
