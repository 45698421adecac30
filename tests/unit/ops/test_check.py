"""`python -m ops check`: the tenant's configuration, through auth0-python over recorded Auth0 answers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses

from ops.__main__ import main as ops
from tests.auth0_replay import BASE_URL, Auth0Replay, fixture
from tests.purchase_support import (
    CLIENT_SECRET,
    MEMBERSHIP_ROLE,
    SERVERLESS_ROLE,
    mock_token_endpoint,
    set_purchase_env,
)

AUDIENCE = "https://courses.example.com/api"
SERVICE_CLIENT_ID = "m2mClientIdForTests"
CHECK_CLIENT_ID = "opsCheckClientId"
CHECK_CLIENT_SECRET = "ops-check-client-secret-Kd02"
TOKEN = "fixture-m2m-access-token-not-a-real-credential"
COURSES = ((SERVERLESS_ROLE, "serverless-handbook"), (MEMBERSHIP_ROLE, "pro-membership"))
RECOMMENDED_LIFETIME = 600  # what the README recommends; the recording has Auth0's default, 86400


def grant(*, scope: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("client_grants_management_api.json")
    if scope is not None:
        body["client_grants"][0]["scope"] = scope
    body["client_grants"][0].update(changes)
    return body


def resource_server(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("resource_server.json")
    body.update(changes)
    return body


def role(role_id: str, slug: str) -> dict[str, Any]:
    body: dict[str, Any] = fixture("role.json")
    body.update(id=role_id, name=f"course:{slug}")
    return body


def role_permissions(slug: str, *, api: str = AUDIENCE) -> dict[str, Any]:
    body: dict[str, Any] = fixture("role_permissions.json")
    body["permissions"][0].update(permission_name=f"read:course:{slug}", resource_server_identifier=api)
    return body


def no_permissions() -> dict[str, Any]:
    body: dict[str, Any] = fixture("role_permissions.json")
    body.update(permissions=[], total=0)
    return body


def script(
    replay: Auth0Replay,
    *,
    grants: Any = None,
    server: Any = None,
    server_status: int = 200,
    roles: dict[str, tuple[int, Any, Any]] | None = None,
) -> Auth0Replay:
    """The requests `check` makes, in order, with these answers (a healthy tenant by default)."""
    replay.reply("GET", "/client-grants", body=grants if grants is not None else grant())
    healthy = resource_server(token_lifetime=RECOMMENDED_LIFETIME)
    replay.reply("GET", f"/resource-servers/{AUDIENCE}", status=server_status, body=server or healthy)
    for role_id, slug in COURSES:
        status, role_body, permissions = (roles or {}).get(role_id, (200, role(role_id, slug), role_permissions(slug)))
        replay.reply("GET", f"/roles/{role_id}", status=status, body=role_body)
        if status == 200:
            replay.reply("GET", f"/roles/{role_id}/permissions", body=permissions)
    return replay


@pytest.fixture
def auth0(
    monkeypatch: pytest.MonkeyPatch, auth0_replay: Auth0Replay
) -> Iterator[tuple[Auth0Replay, responses.RequestsMock]]:
    set_purchase_env(monkeypatch, AUTH0_AUDIENCE=AUDIENCE)
    monkeypatch.delenv("AUTH0_CHECK_CLIENT_ID", raising=False)
    monkeypatch.delenv("AUTH0_CHECK_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("ACCESS_TOKEN_MAX_LIFETIME_SECONDS", raising=False)
    with responses.RequestsMock() as mock:
        mock_token_endpoint(mock)
        yield auth0_replay, mock


def check(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    code = ops(["check", *flags])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    for secret in (CLIENT_SECRET, CHECK_CLIENT_SECRET, TOKEN):
        assert secret not in text
    return code, captured.out


def test_a_correct_tenant_passes_every_check(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay)

    code, out = check(capsys)

    assert code == 0
    assert "FAIL" not in out
    assert "exactly the scopes the service needs (6)" in out
    assert "RBAC is enabled" in out
    assert "access tokens carry permissions (access_token_authz)" in out
    assert "access tokens live 600 s (10 min) (maximum 600 s (10 min))" in out
    assert "course:serverless-handbook carries read:course:serverless-handbook" in out
    assert "Everything the deployment needs is in place." in out
    replay.assert_finished()
    assert replay.writes == [], "check changes nothing"


def test_the_grant_is_looked_up_for_the_service_application_and_the_management_api(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay)

    check(capsys)

    query = dict(parse_qsl(replay.requests[0].url.query.decode()))
    assert query["client_id"] == SERVICE_CLIENT_ID
    assert query["audience"] == f"{BASE_URL}/api/v2/"
    assert replay.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_missing_and_surplus_scopes_are_reported_with_their_fix(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    scopes = ["read:users", "create:users", "update:users", "read:roles", "delete:role_members", "delete:users"]
    script(replay, grants=grant(scope=scopes))

    code, out = check(capsys)

    assert code == 1
    assert "lacks create:role_members" in out
    assert "fix: Auth0 Dashboard > Applications > APIs > Auth0 Management API" in out
    assert "tick create:role_members" in out
    assert "holds more than it needs: delete:users" in out
    assert "untick delete:users" in out


def test_the_read_scopes_check_needs_are_only_a_warning_when_it_runs_as_the_service(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    scopes = [*fixture("client_grants_management_api.json")["client_grants"][0]["scope"], "read:client_grants"]
    script(replay, grants=grant(scope=[*scopes, "read:resource_servers"]))

    code, out = check(capsys)

    assert code == 0
    assert "warn" in out
    assert "read:client_grants, read:resource_servers for `check` only" in out


def test_a_separate_check_application_reads_and_the_service_must_hold_exactly_its_scopes(
    auth0: tuple[Auth0Replay, responses.RequestsMock],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replay, mock = auth0
    monkeypatch.setenv("AUTH0_CHECK_CLIENT_ID", CHECK_CLIENT_ID)
    monkeypatch.setenv("AUTH0_CHECK_CLIENT_SECRET", CHECK_CLIENT_SECRET)
    scopes = [*fixture("client_grants_management_api.json")["client_grants"][0]["scope"], "read:client_grants"]
    script(replay, grants=grant(scope=scopes))

    code, out = check(capsys)

    assert code == 1
    assert "holds more than it needs: read:client_grants" in out
    [token_call] = mock.calls
    assert f'"client_id": "{CHECK_CLIENT_ID}"' in str(token_call.request.body)
    assert dict(parse_qsl(replay.requests[0].url.query.decode()))["client_id"] == SERVICE_CLIENT_ID


def test_an_application_without_a_grant_for_the_management_api_is_reported(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay, grants=fixture("client_grants_empty.json"))

    code, out = check(capsys)

    assert code == 1
    assert "not authorized for the Management API" in out


def test_a_grant_that_allows_every_scope_is_reported(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay, grants=grant(allow_all_scopes=True))

    code, out = check(capsys)

    assert code == 1
    assert "the grant allows every scope" in out


def test_rbac_off_and_no_permissions_in_the_token_are_reported(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay, server=resource_server(enforce_policies=False, token_dialect="access_token"))

    code, out = check(capsys)

    assert code == 1
    assert "RBAC is disabled" in out
    assert "turn on Enable RBAC" in out
    assert "access tokens carry no permissions (token dialect access_token)" in out
    assert "turn on Add Permissions in the Access Token" in out


def test_the_rfc9068_dialect_with_permissions_is_accepted(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay, server=resource_server(token_dialect="rfc9068_profile_authz"))

    assert check(capsys)[0] == 0


def test_a_missing_api_is_reported_and_the_roles_are_still_checked(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay, server=fixture("error_404_resource_server.json"), server_status=404)

    code, out = check(capsys)

    assert code == 1
    assert "no API has this identifier" in out
    assert f"Create API with identifier {AUDIENCE}" in out
    replay.assert_finished()


def test_a_missing_role_and_a_role_without_its_permission_are_reported(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(
        replay,
        roles={
            SERVERLESS_ROLE: (404, fixture("error_404_role.json"), None),
            MEMBERSHIP_ROLE: (200, role(MEMBERSHIP_ROLE, "pro-membership"), no_permissions()),
        },
    )

    code, out = check(capsys)

    assert code == 1
    assert f"role {SERVERLESS_ROLE} (serverless-handbook): no such role" in out
    assert "put its id in the catalogue's role_id for 'serverless-handbook'" in out
    assert f"role {MEMBERSHIP_ROLE} (pro-membership): lacks the permission read:course:pro-membership" in out
    assert "Add Permissions: https://courses.example.com/api, read:course:pro-membership" in out


def test_a_permission_on_another_api_does_not_count(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    other = role_permissions("pro-membership", api="https://other.example.com/api")
    script(replay, roles={MEMBERSHIP_ROLE: (200, role(MEMBERSHIP_ROLE, "pro-membership"), other)})

    code, out = check(capsys)

    assert code == 1
    assert "lacks the permission read:course:pro-membership on https://courses.example.com/api" in out


def test_a_permission_the_api_does_not_define_is_reported(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    server = resource_server()
    server["scopes"] = [scope for scope in copy.deepcopy(server["scopes"]) if "pro-membership" not in scope["value"]]
    script(
        replay,
        server=server,
        roles={MEMBERSHIP_ROLE: (200, role(MEMBERSHIP_ROLE, "pro-membership"), no_permissions())},
    )

    code, out = check(capsys)

    assert code == 1
    assert "does not define the permission read:course:pro-membership" in out
    assert "Permissions: add read:course:pro-membership" in out


def test_a_scope_check_cannot_read_is_reported_and_the_other_checks_go_on(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    replay.reply("GET", "/client-grants", status=403, body=fixture("error_403_read_client_grants.json"))
    replay.reply("GET", f"/resource-servers/{AUDIENCE}", body=resource_server())
    for role_id, slug in COURSES:
        replay.reply("GET", f"/roles/{role_id}", body=role(role_id, slug))
        replay.reply("GET", f"/roles/{role_id}/permissions", body=role_permissions(slug))

    code, out = check(capsys)

    assert code == 1
    assert "cannot check: Auth0 refused it (403 insufficient_scope)" in out
    assert "tick read:client_grants" in out
    assert "RBAC is enabled" in out
    replay.assert_finished()


def test_an_unset_audience_is_reported(
    auth0: tuple[Auth0Replay, responses.RequestsMock],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replay, _ = auth0
    monkeypatch.delenv("AUTH0_AUDIENCE")
    replay.reply("GET", "/client-grants", body=grant())
    for role_id, slug in COURSES:
        replay.reply("GET", f"/roles/{role_id}", body=role(role_id, slug))
        replay.reply("GET", f"/roles/{role_id}/permissions", body=role_permissions(slug))

    code, out = check(capsys)

    assert code == 1
    assert "AUTH0_AUDIENCE is not set" in out
    replay.assert_finished()


def test_half_of_a_separate_check_application_is_refused(
    auth0: tuple[Auth0Replay, responses.RequestsMock],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replay, mock = auth0
    monkeypatch.setenv("AUTH0_CHECK_CLIENT_ID", CHECK_CLIENT_ID)
    mock.assert_all_requests_are_fired = False

    assert ops(["check"]) == 2
    assert "AUTH0_CHECK_CLIENT_SECRET" in capsys.readouterr().err
    assert replay.requests == []


def test_auth0s_default_24_hour_token_lifetime_is_a_warning_that_says_how_to_shorten_it(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    script(replay, server=resource_server())  # the recording: token_lifetime 86400

    code, out = check(capsys)

    assert code == 0, "a long lifetime is a warning, not a failure"
    assert "warn" in out
    assert "access tokens live 86400 s (24 h), over the 600 s (10 min) maximum" in out
    assert "Courses > Settings > Access Token Expiration: set Maximum Access Token Lifetime to 600 or less" in out
    assert "Everything the deployment needs is in place." not in out


def test_the_maximum_comes_from_the_setting_and_the_flag_overrides_it(
    auth0: tuple[Auth0Replay, responses.RequestsMock],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replay, _ = auth0
    monkeypatch.setenv("ACCESS_TOKEN_MAX_LIFETIME_SECONDS", "86400")
    script(replay, server=resource_server())
    script(replay, server=resource_server())

    first_code, first = check(capsys)
    second_code, second = check(capsys, "--max-token-lifetime", "3600")

    assert (first_code, second_code) == (0, 0)
    assert "access tokens live 86400 s (24 h) (maximum 86400 s (24 h))" in first
    assert "warn" not in first
    assert "over the 3600 s (1 h) maximum" in second


def test_a_lifetime_auth0_does_not_report_is_a_warning(
    auth0: tuple[Auth0Replay, responses.RequestsMock], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, _ = auth0
    server = resource_server()
    del server["token_lifetime"]
    script(replay, server=server)

    code, out = check(capsys)

    assert code == 0
    assert "Auth0 did not report the access-token lifetime" in out


@pytest.mark.parametrize("value", ["ten minutes", "0", "-5", "1e3"])
def test_a_maximum_that_is_not_a_positive_number_of_seconds_is_refused_before_any_request(
    auth0: tuple[Auth0Replay, responses.RequestsMock],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    replay, mock = auth0
    mock.assert_all_requests_are_fired = False
    monkeypatch.setenv("ACCESS_TOKEN_MAX_LIFETIME_SECONDS", value)

    assert ops(["check"]) == 2
    assert capsys.readouterr().err == (
        f"ops: service_misconfigured: ACCESS_TOKEN_MAX_LIFETIME_SECONDS must be a whole number of seconds above 0, "
        f"not {value!r}\n"
    )
    assert ops(["check", "--max-token-lifetime", "0"]) == 2
    assert capsys.readouterr().err == (
        "ops: invalid_option: --max-token-lifetime must be a whole number of seconds above 0, not '0'\n"
    )
    assert replay.requests == []
