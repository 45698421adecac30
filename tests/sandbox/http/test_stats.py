"""The counters tests read: requests per endpoint, by API, and answers by status."""

from __future__ import annotations

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    ROLE,
    api,
    create_buyer,
    dev,
    m2m_token,
)


def test_stats_count_requests_per_endpoint_and_can_be_reset(server: SandboxServer) -> None:
    user_id = create_buyer(server)["user_id"]
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    api(server, "POST", f"/api/v2/users/{user_id}/roles", json={"roles": [ROLE]})
    m2m_token(server)
    stats = dev(server, "GET", "stats").json()
    assert stats["requests"] == {
        "POST /api/v2/users": 1,
        "POST /api/v2/users/{id}/roles": 2,
        "POST /oauth/token": 1,
    }
    assert (stats["management_requests"], stats["authentication_requests"]) == (3, 1)
    assert stats["responses"] == {"200": 1, "201": 1, "204": 2}
    assert dev(server, "DELETE", "stats").status_code == 204
    assert dev(server, "GET", "stats").json()["requests"] == {}
