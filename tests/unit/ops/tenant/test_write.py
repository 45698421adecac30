"""`ops tenant apply`'s changes through auth0-python, over a Management API played by an httpx transport."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ops.errors import Auth0Refused
from ops.tenant.auth0 import Calls
from ops.tenant.steps import Step, line
from ops.tenant.write import make_change
from tests.auth0_replay import fixture
from tests.unit.ops.tenant.conftest import Answer

ACTION_ID = "910b1053-577f-4d81-a8c8-020e7319a38a"  # the recorded action.json's


def test_an_action_whose_build_failed_is_refused_at_once_without_waiting_or_deploying(
    calls_for: Callable[[Answer], Calls],
) -> None:
    requests: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append((request.method, request.url.path))
        if request.url.path == f"/api/v2/actions/actions/{ACTION_ID}":
            return httpx.Response(200, json={**fixture("action.json"), "status": "failed"})
        return httpx.Response(404, json={"statusCode": 404, "error": "Not Found", "message": request.url.path})

    calls = calls_for(answer)
    sleeps: list[float] = []
    calls.sleep = sleeps.append
    calls.wall_clock = lambda: float(len(sleeps))  # each wait a second of a clock that waits for nothing
    deploy = Step("deploy_action", (line("deploy", f'Action "x" ({ACTION_ID})'),), target=ACTION_ID)

    with pytest.raises(Auth0Refused) as refused:
        make_change(calls, deploy)

    assert str(refused.value) == f"Auth0 did not build the Action {ACTION_ID} (status failed): see it in the dashboard"
    assert requests == [("GET", f"/api/v2/actions/actions/{ACTION_ID}")]
    assert sleeps == []
