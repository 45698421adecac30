"""``/api/v2/actions``: Actions (list, get, create, update, deploy) and a trigger's bindings (get, replace)."""

from __future__ import annotations

from typing import Any

from sandbox.errors import ManagementError, invalid_query, payload_error
from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.query import MAX_PER_PAGE, integer_parameter
from sandbox.tenant.actions import POST_LOGIN, POST_LOGIN_VERSION, RUNTIME, Action, Actions

DEFAULT_ACTIONS_PER_PAGE = 50  # Auth0's default for actions; bindings default to 20


class ActionsApi:
    """The tenant's Actions as Auth0's Management API shows them: code, runtime, secrets by name."""

    def __init__(self, *, actions: Actions) -> None:
        self._actions = actions

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v2/actions/actions", self.list_actions, ("read:actions",)),
            Route("POST", "/api/v2/actions/actions", self.create, ("create:actions",)),
            Route("GET", "/api/v2/actions/actions/{id}", self.get, ("read:actions",)),
            Route("PATCH", "/api/v2/actions/actions/{id}", self.update, ("update:actions",)),
            Route("POST", "/api/v2/actions/actions/{id}/deploy", self.deploy, ("create:actions",)),
            Route("GET", "/api/v2/actions/triggers/{trigger}/bindings", self.bindings, ("read:actions",)),
            Route("PATCH", "/api/v2/actions/triggers/{trigger}/bindings", self.bind, ("update:actions",)),
        ]

    def list_actions(self, request: Request) -> Response:
        """Filtered by ``triggerId`` and ``actionName``; ``page``/``per_page`` pages."""
        trigger = request.query_value("triggerId")
        if trigger is not None and trigger != POST_LOGIN:
            raise invalid_query(f'Invalid value "{trigger}" for parameter triggerId')
        found = self._actions.listed(trigger=trigger, name=request.query_value("actionName"))
        page = integer_parameter(request, "page", default=0, low=0, high=1000)
        per_page = integer_parameter(request, "per_page", default=DEFAULT_ACTIONS_PER_PAGE, low=1, high=MAX_PER_PAGE)
        shown = [action.to_auth0() for action in found[page * per_page : (page + 1) * per_page]]
        return json_response(200, {"actions": shown, "total": len(found), "page": page, "per_page": per_page})

    def get(self, request: Request) -> Response:
        return json_response(200, self._action(request.params["id"]).to_auth0())

    def create(self, request: Request) -> Response:
        body = request.json_object()
        name, triggers = body.get("name"), body.get("supported_triggers")
        if not isinstance(name, str) or not name or not isinstance(triggers, list) or not triggers:
            raise payload_error("'Missing required property: name, supported_triggers'.")
        if any(not isinstance(trigger, dict) or trigger.get("id") != POST_LOGIN for trigger in triggers):
            raise payload_error(f"the sandbox runs Actions on the {POST_LOGIN} trigger only")
        code, runtime, secrets = _code(body), _runtime(body), _secrets(body)
        try:
            action = self._actions.create(name=name, code=code or "", runtime=runtime or RUNTIME, secrets=secrets or {})
        except ValueError:
            raise ManagementError(409, f"An action with the name '{name}' already exists.", "conflict") from None
        return json_response(201, action.to_auth0())

    def update(self, request: Request) -> Response:
        body = request.json_object()
        action = self._action(request.params["id"])
        changed = self._actions.change(action.id, code=_code(body), runtime=_runtime(body), secrets=_secrets(body))
        return json_response(200, changed.to_auth0())

    def deploy(self, request: Request) -> Response:
        """A new deployed version: the draft's code and secrets run from now on."""
        action = self._actions.publish(self._action(request.params["id"]).id)
        version = {
            "id": "ver_" + action.id.removeprefix("act_"),
            "action_id": action.id,
            "code": action.code,
            "dependencies": [],
            "deployed": True,
            "runtime": action.runtime,
            "secrets": [{"name": name, "updated_at": action.updated_at} for name in sorted(action.secrets)],
            "status": "built",
            "supported_triggers": [{"id": action.trigger, "version": POST_LOGIN_VERSION}],
            "created_at": action.updated_at,
            "updated_at": action.updated_at,
        }
        return json_response(200, version)

    def bindings(self, request: Request) -> Response:
        return json_response(200, self._actions.bindings(_trigger(request)))

    def bind(self, request: Request) -> Response:
        """Replace the trigger's bindings; each names a deployed Action by id (``ref.type`` ``action_id``)."""
        trigger = _trigger(request)
        listed = request.json_object().get("bindings")
        if not isinstance(listed, list):
            raise payload_error("'Missing required property: bindings'.")
        action_ids = []
        for binding in listed:
            ref = binding.get("ref") if isinstance(binding, dict) else None
            if not isinstance(ref, dict) or ref.get("type") != "action_id" or not isinstance(ref.get("value"), str):
                raise payload_error("each binding needs a ref of type action_id (the sandbox binds by id)")
            action = self._action(ref["value"])
            if action.deployed_code is None:
                message = f"The action {action.id} must be deployed before it is bound."
                raise ManagementError(400, message, "invalid_body")
            action_ids.append(action.id)
        self._actions.bind(trigger, action_ids)
        answer = self._actions.bindings(trigger)
        return json_response(200, {"bindings": answer["bindings"]})

    def _action(self, action_id: str) -> Action:
        action = self._actions.get(action_id)
        if action is None:
            raise ManagementError(404, "The action does not exist.", "inexistent_action")
        return action


def _trigger(request: Request) -> str:
    trigger = request.params["trigger"]
    if trigger != POST_LOGIN:
        raise ManagementError(404, f"The trigger {trigger} does not exist.", "inexistent_trigger")
    return trigger


def _code(body: dict[str, Any]) -> str | None:
    code = body.get("code")
    if code is not None and not isinstance(code, str):
        raise payload_error("'code' must be a string")
    return code


def _runtime(body: dict[str, Any]) -> str | None:
    runtime = body.get("runtime")
    if runtime is not None and not isinstance(runtime, str):
        raise payload_error("'runtime' must be a string")
    return runtime


def _secrets(body: dict[str, Any]) -> dict[str, str] | None:
    """``[{"name", "value"}, ...]``; every secret needs both (the sandbox keeps no value it was not given)."""
    listed = body.get("secrets")
    if listed is None:
        return None
    if not isinstance(listed, list) or not all(
        isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("value"), str)
        for item in listed
    ):
        raise payload_error("'secrets' must be a list of {name, value}")
    return {item["name"]: item["value"] for item in listed}
