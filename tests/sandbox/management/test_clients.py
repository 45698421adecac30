"""``/api/v2/clients``: applications created and changed through the Management API, usable at once."""

from __future__ import annotations

import pytest
from auth0.authentication.exceptions import Auth0Error

from sandbox.server import SandboxServer
from tests.sandbox.http.test_cors import preflight
from tests.sandbox.support import api, token_for

SPA = {
    "name": "course SPA",
    "app_type": "spa",
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "callbacks": ["http://127.0.0.1:3000"],
    "web_origins": ["http://127.0.0.1:3000"],
    "client_metadata": {"managed_by": "me"},
}
M2M = {"name": "service", "app_type": "non_interactive", "grant_types": ["client_credentials"]}


def test_a_bare_tenant_lists_only_its_bootstrap_application(bare: SandboxServer, bootstrap_token: str) -> None:
    listed = api(bare, "GET", "/api/v2/clients", token=bootstrap_token, params={"include_totals": "true"}).json()

    assert [client["client_id"] for client in listed["clients"]] == ["sandbox-tenant-client"]
    assert listed["total"] == 1
    assert "client_secret" not in listed["clients"][0]


def test_a_created_application_is_listed_without_its_secret_and_read_with_it(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    created = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json=SPA)
    assert created.status_code == 201
    client_id = created.json()["client_id"]

    listed = api(bare, "GET", "/api/v2/clients", token=bootstrap_token, params={"fields": "client_id,name"}).json()
    one = api(bare, "GET", f"/api/v2/clients/{client_id}", token=bootstrap_token).json()

    assert {"client_id": client_id, "name": "course SPA"} in listed
    assert one["client_metadata"] == {"managed_by": "me"}
    assert one["callbacks"] == ["http://127.0.0.1:3000"]
    assert isinstance(one["client_secret"], str)
    assert len(one["client_secret"]) == 64


def test_an_update_changes_the_named_settings_and_the_application_follows(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    client_id = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json=M2M).json()["client_id"]
    secret = api(bare, "GET", f"/api/v2/clients/{client_id}", token=bootstrap_token).json()["client_secret"]

    changed = api(
        bare, "PATCH", f"/api/v2/clients/{client_id}", token=bootstrap_token, json={"grant_types": ["implicit"]}
    )

    assert changed.status_code == 200
    assert changed.json()["name"] == "service"
    assert bare.clients[client_id].grant_types == ("implicit",)
    with pytest.raises(Auth0Error) as refused:
        token_for(bare, client_id, secret)
    assert "Grant type 'client_credentials' not allowed for the client" in str(refused.value)


def test_a_bad_body_is_refused_and_creates_nothing(bare: SandboxServer, bootstrap_token: str) -> None:
    unknown = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json={**M2M, "colour": "red"})
    nameless = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json={"app_type": "spa"})
    wrong = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json={**M2M, "callbacks": "x"})

    assert [unknown.status_code, nameless.status_code, wrong.status_code] == [400, 400, 400]
    assert unknown.json()["errorCode"] == "invalid_body"
    assert bare.tenant.configuration.clients == {}


def test_an_unknown_application_is_a_404_and_a_missing_scope_a_403(bare: SandboxServer, bootstrap_token: str) -> None:
    missing = api(bare, "GET", "/api/v2/clients/nope", token=bootstrap_token)
    forbidden = api(bare, "POST", "/api/v2/clients", token=bare.management_token(scope="read:clients"), json=M2M)

    assert (missing.status_code, missing.json()["errorCode"]) == (404, "inexistent_client")
    assert (forbidden.status_code, forbidden.json()["errorCode"]) == (403, "insufficient_scope")


def test_a_created_spas_origin_may_call_the_token_endpoint_at_once_and_a_changed_one_no_longer(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    before = preflight(bare, "/oauth/token", "http://127.0.0.1:3000")
    client_id = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json=SPA).json()["client_id"]
    created = preflight(bare, "/oauth/token", "http://127.0.0.1:3000")
    moved = {"web_origins": ["https://app.example.com"], "callbacks": ["https://app.example.com"]}
    api(bare, "PATCH", f"/api/v2/clients/{client_id}", token=bootstrap_token, json=moved)

    assert before.status_code == 403
    assert (created.status_code, created.headers["Access-Control-Allow-Origin"]) == (204, "http://127.0.0.1:3000")
    assert preflight(bare, "/oauth/token", "http://127.0.0.1:3000").status_code == 403
    assert preflight(bare, "/oauth/token", "https://app.example.com").status_code == 204


def test_a_list_without_fields_shows_no_secret(bare: SandboxServer, bootstrap_token: str) -> None:
    made = [api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json=body).json() for body in (M2M, SPA)]

    listed = api(bare, "GET", "/api/v2/clients", token=bootstrap_token).json()
    totals = api(bare, "GET", "/api/v2/clients", token=bootstrap_token, params={"include_totals": "true"}).json()

    assert {client["client_id"] for client in made} <= {client["client_id"] for client in listed}
    assert all("client_secret" in client for client in made)
    assert [client for client in [*listed, *totals["clients"]] if "client_secret" in client] == []


def test_an_application_is_read_without_its_secret_by_a_token_without_read_client_keys(
    bare: SandboxServer, bootstrap_token: str
) -> None:
    client_id = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json=M2M).json()["client_id"]
    path, asked = f"/api/v2/clients/{client_id}", {"fields": "client_id,client_secret", "include_fields": "true"}

    clients_only = api(bare, "GET", path, token=bare.management_token(scope="read:clients"), params=asked)
    keys = api(bare, "GET", path, token=bare.management_token(scope="read:clients read:client_keys"), params=asked)
    keys_only = api(bare, "GET", path, token=bare.management_token(scope="read:client_keys"), params=asked)

    assert (clients_only.status_code, clients_only.json()) == (200, {"client_id": client_id})
    assert keys.json()["client_secret"] == bare.tenant.configuration.clients[client_id]["client_secret"]
    assert keys_only.json()["client_secret"] == keys.json()["client_secret"]


@pytest.mark.parametrize(
    ("body", "property_name"),
    [
        ({**M2M, "callbacks": [1]}, "callbacks[0]"),
        ({**M2M, "web_origins": ["https://app.example.com", None]}, "web_origins[1]"),
        ({**SPA, "callbacks": ["javascript:alert(1)"]}, "callbacks[0]"),
        ({**SPA, "allowed_logout_urls": ["javascript:alert(1)"]}, "allowed_logout_urls[0]"),
        ({**SPA, "web_origins": ["http://127.0.0.1:3000/app"]}, "web_origins[0]"),
        ({**M2M, "callbacks": ["not a url"]}, "callbacks[0]"),
    ],
)
def test_an_application_with_a_bad_url_is_refused_and_nothing_changes(
    bare: SandboxServer, bootstrap_token: str, body: dict[str, object], property_name: str
) -> None:
    spa = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json=SPA).json()
    kept = dict(bare.tenant.configuration.clients)
    change = {
        name: value for name, value in body.items() if name in ("callbacks", "allowed_logout_urls", "web_origins")
    }

    created = api(bare, "POST", "/api/v2/clients", token=bootstrap_token, json=body)
    changed = api(bare, "PATCH", f"/api/v2/clients/{spa['client_id']}", token=bootstrap_token, json=change)

    for refused in (created, changed):
        assert (refused.status_code, refused.json()["errorCode"]) == (400, "invalid_body")
        assert refused.json()["message"].startswith("Payload validation error: ")
        assert refused.json()["message"].endswith(f" on property {property_name}.")
    assert bare.tenant.configuration.clients == kept
    assert bare.clients[spa["client_id"]].callbacks == ("http://127.0.0.1:3000",)
    assert api(bare, "GET", "/api/v2/clients", token=bootstrap_token).status_code == 200


def test_the_sandboxs_own_applications_are_not_changed_through_the_management_api(server: SandboxServer) -> None:
    token = server.management_token(scope="read:clients update:clients")
    before = {client_id: server.clients[client_id] for client_id in ("sandbox-m2m-client", "sandbox-spa-client")}
    moved = {"callbacks": ["https://elsewhere.example"], "grant_types": ["implicit"]}

    answers = [api(server, "PATCH", f"/api/v2/clients/{client_id}", token=token, json=moved) for client_id in before]

    for answer in answers:
        assert (answer.status_code, answer.json()["errorCode"]) == (400, "invalid_body")
        assert "the sandbox's own applications are changed by its settings" in answer.json()["message"]
    assert {client_id: server.clients[client_id] for client_id in before} == before
    assert server.tenant.configuration.clients == {}
