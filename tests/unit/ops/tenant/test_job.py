"""`ops tenant apply`'s rounds over a Management API played through auth0-python (no network): a tenant that does
not show what apply just made stops apply before it makes anything twice; a new Action secret with nowhere to keep
it stops apply before it makes anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.errors import Auth0Refused, NotConfigured
from ops.tenant.auth0 import Calls
from ops.tenant.job import Job
from ops.tenant.model import ActionSpec, desired_state
from tests.unit.ops.tenant.conftest import Answer
from tests.unit.ops.tenant.test_plan import AUDIENCE, TARGETS, needs

SECRETS = {"POST_LOGIN_URL": "https://api.example.com/auth0/post-login", "POST_LOGIN_SECRET": "made-by-this-run-0123"}
# What each create answers with: the posted document and the id Auth0 gives it.
MADE_IDS = {"/resource-servers": "id", "/roles": "id", "/clients": "client_id", "/connections": "id"}


def forgetful_tenant(posted: list[str]) -> Answer:
    """A tenant that accepts every create, then lists none of what it made (as an eventually consistent read can)."""

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v2")
        if request.method == "POST" and path in MADE_IDS:
            posted.append(path)
            body: dict[str, Any] = json.loads(request.content)
            return httpx.Response(201, json={**body, MADE_IDS[path]: f"made_{len(posted)}"})
        if path.startswith("/resource-servers/"):
            return httpx.Response(404, json={"statusCode": 404, "error": "Not Found", "message": "Not found"})
        if path in ("/roles", "/clients"):
            return httpx.Response(200, json={"start": 0, "limit": 100, "total": 0, path[1:]: []})
        if path == "/connections":
            return httpx.Response(200, json={"connections": []})
        if path == "/actions/actions":
            return httpx.Response(200, json={"actions": [], "total": 0, "page": 0, "per_page": 100})
        if path == "/actions/triggers/post-login/bindings":
            return httpx.Response(200, json={"bindings": [], "total": 0, "page": 0, "per_page": 100})
        return httpx.Response(404, json={"statusCode": 404, "error": "Not Found", "message": path})

    return answer


def test_a_create_planned_again_in_the_next_round_stops_apply_instead_of_making_it_twice(
    calls_for: Callable[[Answer], Calls], tmp_path: Path
) -> None:
    posted: list[str] = []
    job = Job(
        stage="prod",
        domain="https://example.us.auth0.com",
        desired=desired_state(needs()),
        tenant=calls_for(forgetful_tenant(posted)),
        targets=TARGETS,
        catalogue=tmp_path / "courses.json",
        destination=None,
        adopt=(),
    )

    with pytest.raises(Auth0Refused) as refused:
        job.converge()

    assert str(refused.value).startswith(f"Auth0 does not show what was just created (create API {AUDIENCE} ")
    assert str(refused.value).endswith("; run apply again")
    assert sorted(posted) == ["/clients"] * 3 + ["/connections", "/resource-servers"] + ["/roles"] * 2


def test_apply_with_nowhere_to_keep_a_new_post_login_secret_is_refused_before_any_change(
    calls_for: Callable[[Answer], Calls], tmp_path: Path
) -> None:
    posted: list[str] = []
    action = ActionSpec("gumroad-auth0-gate prod post-login", "// code", "node22", SECRETS, secret_is_new=True)
    job = Job(
        stage="prod",
        domain="https://example.us.auth0.com",
        desired=desired_state(needs(action=action)),
        tenant=calls_for(forgetful_tenant(posted)),
        targets=TARGETS,
        catalogue=tmp_path / "courses.json",
        destination=None,
        adopt=(),
    )

    with pytest.raises(NotConfigured) as refused:
        job.converge()

    assert str(refused.value) == (
        "apply would give the post-login Action a new POST_LOGIN_SECRET and keep it nowhere, so the service could "
        "not check the Action's calls: give --write-credentials FILE, or set AUTH0_SECRET_ID (the stack's secret); "
        "nothing was changed"
    )
    assert posted == []
    assert SECRETS["POST_LOGIN_SECRET"] not in str(refused.value)
