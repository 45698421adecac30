"""The state file: a restart keeps the tenant (never a password), and an unreadable file is refused until reset."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from auth0.authentication import Database

from sandbox.__main__ import main as sandbox_cli
from sandbox.server import SandboxServer
from sandbox.tenant.state_file import StateFileError
from tests.sandbox.support import (
    CONNECTION,
    M2M_ID,
    PASSWORD,
    PERMISSION,
    ROLE,
    api,
    create_buyer,
    dev,
    login,
    service_verifier,
)


def test_a_restart_keeps_users_roles_passwords_outbox_and_key_but_stores_no_password(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(state_path=state) as first:
        user_id = create_buyer(first)["user_id"]
        api(first, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
        Database(first.domain, M2M_ID, protocol="http", telemetry=False).change_password(
            email="buyer@example.com", connection=CONNECTION
        )
        (message,) = dev(first, "GET", "outbox").json()["messages"]
        dev(first, "POST", "set-password", json={"ticket": message["ticket"], "password": PASSWORD})
        kid = jwt.get_unverified_header(first.user_token("buyer@example.com"))["kid"]
    saved = state.read_text(encoding="utf-8")
    assert PASSWORD not in saved
    assert "scrypt$" in saved
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json", "state.json.lock"]  # no temp files
    with SandboxServer(state_path=state) as second:
        roles = api(second, "GET", f"/api/v2/users/{user_id}/roles", params={"include_totals": "true"}).json()
        assert [role["id"] for role in roles["roles"]] == [ROLE]
        assert len(dev(second, "GET", "outbox").json()["messages"]) == 1
        token = login(second, "buyer@example.com", PASSWORD)["access_token"]
        assert jwt.get_unverified_header(token)["kid"] == kid
        assert service_verifier(second).verify(token).grants(PERMISSION)


def test_an_unreadable_state_file_is_refused_with_a_message_and_reset_repairs_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{broken", encoding="utf-8")
    with pytest.raises(StateFileError, match="sandbox reset"):
        SandboxServer(state_path=state)
    assert sandbox_cli(["reset", "--state", str(state)]) == 0
    SandboxServer(state_path=state)
