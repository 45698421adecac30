"""``/api/v2/actions``: Actions made through the Management API are drafts until deployed, bound only once
deployed, bound without dropping the others, and a login runs what was deployed (in the recorded shapes)."""

from __future__ import annotations

from typing import Any

import requests

from sandbox.server import SandboxServer
from tests.sandbox.support import api, fixture, types_of

CODE = "exports.onExecutePostLogin = async (event, api) => {};"
SECRETS = [{"name": "POST_LOGIN_URL", "value": "http://127.0.0.1:9/auth0/post-login"}]


def call(server: SandboxServer, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return api(server, method, f"/api/v2/actions{path}", token=token, **kwargs)


def create(server: SandboxServer, token: str, name: str) -> dict[str, Any]:
    body = {"name": name, "code": CODE, "runtime": "node22", "supported_triggers": [{"id": "post-login"}]}
    made = call(server, token, "POST", "/actions", json={**body, "secrets": SECRETS})
    assert made.status_code == 201, made.text
    document: dict[str, Any] = made.json()
    return document


def test_a_created_action_is_a_draft_in_the_recorded_shape_found_by_name_and_shows_secrets_by_name_only(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    action = create(bare, bootstrap_token, "ours")

    assert types_of(action) == types_of(fixture("action.json"))
    assert action["all_changes_deployed"] is False
    assert [secret["name"] for secret in action["secrets"]] == ["POST_LOGIN_URL"]
    assert "127.0.0.1:9" not in str(action["secrets"])
    listed = call(bare, bootstrap_token, "GET", "/actions", params={"triggerId": "post-login", "actionName": "ours"})
    assert [found["id"] for found in listed.json()["actions"]] == [action["id"]]
    assert call(bare, bootstrap_token, "GET", "/actions", params={"actionName": "theirs"}).json()["actions"] == []
    assert (
        call(
            bare,
            bootstrap_token,
            "POST",
            "/actions",
            json={"name": "ours", "supported_triggers": [{"id": "post-login"}]},
        ).status_code
        == 409
    )


def test_an_undeployed_action_cannot_be_bound_and_nothing_runs(bare: SandboxServer, bootstrap_token: str) -> None:
    action = create(bare, bootstrap_token, "ours")
    binding = {"bindings": [{"ref": {"type": "action_id", "value": action["id"]}, "display_name": "ours"}]}

    refused = call(bare, bootstrap_token, "PATCH", "/triggers/post-login/bindings", json=binding)

    assert refused.status_code == 400
    assert bare.tenant.actions.bound("post-login") == []


def test_binding_keeps_the_other_actions_in_order_and_a_login_runs_the_deployed_code_not_a_later_draft(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    theirs, ours = create(bare, bootstrap_token, "theirs"), create(bare, bootstrap_token, "ours")
    for action in (theirs, ours):
        assert call(bare, bootstrap_token, "POST", f"/actions/{action['id']}/deploy").status_code == 200
    refs = [{"ref": {"type": "action_id", "value": a["id"]}, "display_name": a["name"]} for a in (theirs, ours)]
    bound = call(bare, bootstrap_token, "PATCH", "/triggers/post-login/bindings", json={"bindings": refs})
    assert bound.status_code == 200, bound.text

    draft = call(bare, bootstrap_token, "PATCH", f"/actions/{ours['id']}", json={"code": "// a draft"})

    assert draft.json()["all_changes_deployed"] is False
    listed = call(bare, bootstrap_token, "GET", "/triggers/post-login/bindings").json()
    assert set(listed) == set(fixture("action_bindings.json"))
    assert types_of(listed["bindings"][0]) == types_of(fixture("action_bindings.json")["bindings"][0])
    assert [binding["action"]["name"] for binding in listed["bindings"]] == ["theirs", "ours"]
    running = bare.tenant.actions.bound("post-login")
    assert [action.code for action in running] == [CODE, CODE]
    assert running[1].secrets == {"POST_LOGIN_URL": "http://127.0.0.1:9/auth0/post-login"}
    call(bare, bootstrap_token, "POST", f"/actions/{ours['id']}/deploy")
    assert bare.tenant.actions.bound("post-login")[1].code == "// a draft"


def test_actions_need_the_actions_scopes(bare: SandboxServer) -> None:
    token = bare.management_token(scope="read:users")

    assert call(bare, token, "GET", "/actions").status_code == 403
    assert call(bare, token, "GET", "/triggers/post-login/bindings").status_code == 403


def test_an_action_for_any_trigger_but_post_login_is_refused_and_none_is_made(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    other = {"id": "credentials-exchange", "version": "v2"}
    bodies = [[other], [{"id": "post-login", "version": "v3"}, other], ["post-login"]]

    answers = [
        call(
            bare, bootstrap_token, "POST", "/actions", json={"name": "x", "code": CODE, "supported_triggers": triggers}
        )
        for triggers in bodies
    ]

    for answer in answers:
        assert (answer.status_code, answer.json()["errorCode"]) == (400, "invalid_body")
        assert "post-login trigger only" in answer.json()["message"]
    assert call(bare, bootstrap_token, "GET", "/actions").json()["total"] == 0
