"""Shared pieces for the purchase-path tests: the environment, Gumroad bodies, Auth0 token mocks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pytest
import responses

from tests.auth0_replay import BASE_URL, fixture

GUMROAD = Path(__file__).parent / "fixtures" / "gumroad"
SELLER_ID = "kL0psVL2admJSYRNs-OCMg=="
PING_SECRET = "ping-secret-for-tests-7Q2x"
CLIENT_SECRET = "m2m-client-secret-for-tests-Zr81"
SERVERLESS_ROLE = "rol_SvHandbook0001"
MEMBERSHIP_ROLE = "rol_ProMembers0002"

PURCHASE_ENV = {
    "AUTH0_DOMAIN": "example.us.auth0.com",
    "AUTH0_CLIENT_ID": "m2mClientIdForTests",
    "AUTH0_CLIENT_SECRET": CLIENT_SECRET,
    "GUMROAD_PING_SECRET": PING_SECRET,
    "GUMROAD_SELLER_ID": SELLER_ID,
    "COURSES_FILE": "tests/fixtures/courses.purchase.json",
}


def set_purchase_env(monkeypatch: pytest.MonkeyPatch, **overrides: str | None) -> None:
    for name in (
        "AUTH0_SECRET_ID",
        "AUTH0_CONNECTION",
        "GUMROAD_PROVISION_TEST_PURCHASES",
        "BUYER_ONBOARDING",
        "AUTH0_ONBOARDING_CLIENT_ID",
        "PING_DEADLINE_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**PURCHASE_ENV, **overrides}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def recorded_body(name: str) -> str:
    """A body exactly as Gumroad sends it (``tests/fixtures/gumroad/<name>.form``)."""
    return (GUMROAD / f"{name}.form").read_text(encoding="utf-8")


def form_body(name: str, **changes: str | None) -> str:
    """A recorded body with some fields changed (None removes a field), re-encoded as Gumroad does."""
    pairs = parse_qsl(recorded_body(name), keep_blank_values=True)
    seen = set()
    edited: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in changes:
            seen.add(key)
            replacement = changes[key]
            if replacement is not None:
                edited.append((key, replacement))
        else:
            edited.append((key, value))
    edited += [(key, value) for key, value in changes.items() if key not in seen and value is not None]
    return urlencode(edited, quote_via=quote)


def mock_token_endpoint(mock: responses.RequestsMock, *, base_url: str = BASE_URL) -> responses.BaseResponse:
    return mock.add(responses.POST, f"{base_url}/oauth/token", json=fixture("oauth_token_client_credentials.json"))


def mock_change_password(mock: responses.RequestsMock, *, base_url: str = BASE_URL) -> responses.BaseResponse:
    text = (Path(__file__).parent / "fixtures" / "auth0" / "dbconnections_change_password.txt").read_text()
    return mock.add(responses.POST, f"{base_url}/dbconnections/change_password", body=text, content_type="text/html")
