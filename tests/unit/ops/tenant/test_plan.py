"""`ops tenant`'s decisions over plain data: what an empty tenant needs, what a settled one does not, drift,
what it refuses to touch, and what the service reads (role ids, credentials)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ops.tenant.model import (
    LOGIN,
    MANAGED_BY,
    SERVICE,
    SPA,
    ActionSpec,
    Course,
    Credentials,
    Desired,
    Found,
    FoundAction,
    FoundApi,
    FoundBinding,
    FoundClient,
    FoundConnection,
    FoundGrant,
    FoundRole,
    StageNeeds,
    client_metadata,
    connection_metadata,
    desired_state,
)
from ops.tenant.plan import plan
from ops.tenant.steps import Plan, Targets

AUDIENCE = "https://courses.example.com/api"
MANAGEMENT = "https://example.us.auth0.com/api/v2/"
SPA_URL = "https://app.example.com"
SERVICE_SCOPES = (
    "read:users",
    "update:users",
    "create:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
)
HANDBOOK = Course("serverless-handbook", "Serverless Handbook", "read:course:serverless-handbook", "rol_REPLACE_ME")
MEMBERSHIP = Course("pro-membership", "Pro Membership", "read:course:pro-membership", "rol_REPLACE_ME")
TARGETS = Targets(catalogue="chalicelib/courses.json")
SECRET_TARGETS = Targets(
    catalogue="chalicelib/courses.json",
    credentials="Secrets Manager secret gumroad-auth0-gate/prod",
    credential_keys=("client_id", "client_secret", "login_client_secret"),
)
IDS = {SPA: "spaClientId0001", SERVICE: "m2mClientId0001", LOGIN: "loginClientId01"}
ROLE_IDS = {HANDBOOK.slug: "rol_Handbook00001", MEMBERSHIP.slug: "rol_Membership001"}


def needs(**changes: Any) -> StageNeeds:
    base = StageNeeds(
        stage="prod",
        audience=AUDIENCE,
        management_audience=MANAGEMENT,
        connection="courses-buyers",
        courses=(HANDBOOK, MEMBERSHIP),
        spa_urls=(SPA_URL,),
        token_lifetime=600,
        service_scopes=SERVICE_SCOPES,
        login=True,
    )
    return replace(base, **changes)


def settled(desired: Desired) -> Found:
    """The tenant exactly as ``apply`` leaves it for ``desired`` (what a second plan reads)."""
    api = desired.api
    return Found(
        api=FoundApi("rs_1", api.identifier, api.name, api.settings(), api.scopes),
        roles=tuple(
            FoundRole(ROLE_IDS[spec.slug], spec.name, spec.description, ((api.identifier, spec.permission),))
            for spec in desired.roles
        ),
        clients=tuple(
            FoundClient(IDS[spec.purpose], spec.name, dict(spec.settings), dict(spec.metadata))
            for spec in desired.clients
        ),
        grants=(FoundGrant("cgr_1", IDS[SERVICE], MANAGEMENT, tuple(reversed(desired.grant.scopes))),),
        connection=FoundConnection(
            "con_1",
            desired.connection.name,
            "auth0",
            {**desired.connection.options, "passwordPolicy": "good"},
            dict(desired.connection.metadata),
            tuple(IDS.values()),
        ),
    )


def with_catalogue_ids(desired: Desired) -> Desired:
    roles = tuple(replace(spec, catalogue_role_id=ROLE_IDS[spec.slug]) for spec in desired.roles)
    return replace(desired, roles=roles)


def lines(result: Plan) -> list[str]:
    return result.lines


# --- an empty tenant ------------------------------------------------------------------------------


def test_an_empty_tenant_gets_every_resource_in_order_with_the_steps_that_need_new_ids_waiting() -> None:
    result = plan(desired_state(needs()), Found(), TARGETS)

    assert result.refusals == ()
    assert [step.kind for step in result.steps] == [
        "create_api",
        "create_role",
        "add_role_permissions",
        "create_role",
        "add_role_permissions",
        "create_client",
        "create_client",
        "create_client",
        "create_grant",
        "create_connection",
        "enable_connection",
        "write_role_ids",
    ]
    waiting = [step.kind for step in result.steps if not step.ready]
    assert waiting == [
        "add_role_permissions",
        "add_role_permissions",
        "create_grant",
        "enable_connection",
        "write_role_ids",
    ]
    assert result.notes == (
        "the service's credentials are written nowhere: give --write-credentials FILE, or set AUTH0_SECRET_ID "
        "(the stack's secret) so that apply writes them there",
    )


def test_the_plan_of_an_empty_tenant_says_each_change_on_one_line() -> None:
    shown = lines(plan(desired_state(needs(login=False)), Found(), TARGETS))

    assert shown == [
        f'+ create API {AUDIENCE} "gumroad-auth0-gate prod API": RS256, RBAC on, permissions in the access token, '
        "offline access, token lifetime 600 s, permissions read:course:serverless-handbook, read:course:pro-membership",
        "+ create role course:serverless-handbook (Buyers of Serverless Handbook "
        "(managed by gumroad-auth0-gate, stage prod))",
        f"+ add permission read:course:serverless-handbook on API {AUDIENCE} to role course:serverless-handbook (new)",
        "+ create role course:pro-membership (Buyers of Pro Membership (managed by gumroad-auth0-gate, stage prod))",
        f"+ add permission read:course:pro-membership on API {AUDIENCE} to role course:pro-membership (new)",
        '+ create application "gumroad-auth0-gate prod SPA" (spa; grant types authorization_code, refresh_token; '
        f"callback, logout and web-origin URLs {SPA_URL}; rotating refresh tokens with reuse detection, "
        "1296000 s idle, 2592000 s absolute)",
        '+ create application "gumroad-auth0-gate prod service" (non_interactive; grant types client_credentials)',
        f"+ create grant of the service's application on the Management API ({MANAGEMENT}): create:role_members, "
        "create:users, delete:role_members, read:roles, read:users, update:users",
        "+ create database connection courses-buyers (brute_force_protection on, disable_signup on)",
        "+ enable database connection courses-buyers for the spa application (new), service application (new)",
        "~ write role_id of course serverless-handbook in chalicelib/courses.json: rol_REPLACE_ME -> "
        "(the new role's id)",
        "~ write role_id of course pro-membership in chalicelib/courses.json: rol_REPLACE_ME -> (the new role's id)",
    ]


def test_the_api_is_created_as_the_revocation_design_needs_it() -> None:
    [create] = [step for step in plan(desired_state(needs()), Found(), TARGETS).steps if step.kind == "create_api"]

    assert create.payload == {
        "identifier": AUDIENCE,
        "name": "gumroad-auth0-gate prod API",
        "scopes": [
            {"value": "read:course:serverless-handbook", "description": "Open the course Serverless Handbook"},
            {"value": "read:course:pro-membership", "description": "Open the course Pro Membership"},
        ],
        "signing_alg": "RS256",
        "enforce_policies": True,
        "token_dialect": "access_token_authz",
        "allow_offline_access": True,
        "skip_consent_for_verifiable_first_party_clients": True,
        "token_lifetime": 600,
    }


def test_the_database_connection_is_created_with_sign_ups_off_and_its_mark() -> None:
    [create] = [
        step for step in plan(desired_state(needs()), Found(), TARGETS).steps if step.kind == "create_connection"
    ]

    assert create.payload == {
        "name": "courses-buyers",
        "strategy": "auth0",
        "options": {"disable_signup": True, "brute_force_protection": True},
        "metadata": {"managed_by": MANAGED_BY, "stage": "prod"},
    }


def test_the_applications_carry_the_mark_that_tells_them_apart() -> None:
    creates = [
        step.payload for step in plan(desired_state(needs()), Found(), TARGETS).steps if step.kind == "create_client"
    ]

    assert [payload["client_metadata"] for payload in creates] == [
        client_metadata("prod", SPA),
        client_metadata("prod", SERVICE),
        client_metadata("prod", LOGIN),
    ]
    assert creates[0]["refresh_token"]["rotation_type"] == "rotating"
    assert creates[0]["token_endpoint_auth_method"] == "none"
    assert creates[2]["grant_types"] == ["http://auth0.com/oauth/grant-type/password-realm"]


# --- a settled tenant, and drift --------------------------------------------------------------------


def test_a_tenant_that_matches_needs_nothing() -> None:
    desired = with_catalogue_ids(desired_state(needs()))

    result = plan(desired, settled(desired), TARGETS)

    assert (result.steps, result.refusals) == ((), ())


def test_a_longer_token_lifetime_and_rbac_off_are_put_back_one_line_each() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    assert found.api is not None
    drifted = {**found.api.settings, "token_lifetime": 86400, "enforce_policies": False}
    found = replace(found, api=replace(found.api, settings=drifted))

    [step] = plan(desired, found, TARGETS).steps

    assert step.kind == "update_api"
    assert step.target == "rs_1"
    assert step.payload == {"enforce_policies": True, "token_lifetime": 600}
    assert list(step.lines) == [
        f"~ update API {AUDIENCE}: enforce_policies off -> on",
        f"~ update API {AUDIENCE}: token_lifetime 86400 -> 600",
    ]


def test_a_new_course_adds_its_permission_and_keeps_the_apis_others() -> None:
    desired = with_catalogue_ids(desired_state(needs(courses=(HANDBOOK,))))
    found = settled(desired)
    assert found.api is not None
    found = replace(found, api=replace(found.api, scopes=(("read:other", "Someone else's"),)))

    [step] = plan(desired, found, TARGETS).steps

    assert step.lines == (f"+ add permission read:course:serverless-handbook to API {AUDIENCE}",)
    assert step.payload == {
        "scopes": [
            {"value": "read:other", "description": "Someone else's"},
            {"value": "read:course:serverless-handbook", "description": "Open the course Serverless Handbook"},
        ]
    }


def test_a_role_gets_exactly_its_course_permission_on_the_api_and_keeps_those_on_other_apis() -> None:
    desired = with_catalogue_ids(desired_state(needs(courses=(HANDBOOK,))))
    found = settled(desired)
    role = replace(
        found.roles[0],
        permissions=((AUDIENCE, "read:course:pro-membership"), ("https://other.example.com/api", "read:x")),
    )

    steps = plan(desired, replace(found, roles=(role,)), TARGETS).steps

    assert [(step.kind, step.payload["permissions"]) for step in steps] == [
        ("add_role_permissions", [(AUDIENCE, "read:course:serverless-handbook")]),
        ("remove_role_permissions", [(AUDIENCE, "read:course:pro-membership")]),
    ]


def test_a_role_found_by_name_has_its_id_written_back_into_the_catalogue() -> None:
    desired = desired_state(needs(courses=(HANDBOOK,)))  # the catalogue still holds the placeholder
    found = settled(with_catalogue_ids(desired))

    [step] = plan(desired, found, TARGETS).steps

    assert step.kind == "write_role_ids"
    assert step.ready
    assert step.payload == {"role_ids": {HANDBOOK.slug: ROLE_IDS[HANDBOOK.slug]}}
    assert step.lines == (
        "~ write role_id of course serverless-handbook in chalicelib/courses.json: rol_REPLACE_ME -> "
        f"{ROLE_IDS[HANDBOOK.slug]}",
    )


def test_the_spa_application_follows_a_new_spa_url() -> None:
    old = with_catalogue_ids(desired_state(needs()))
    desired = with_catalogue_ids(desired_state(needs(spa_urls=("https://courses.example.org",))))

    [step] = plan(desired, settled(old), TARGETS).steps

    assert step.kind == "update_client"
    assert step.target == IDS[SPA]
    assert set(step.payload) == {"callbacks", "allowed_logout_urls", "web_origins"}
    assert step.lines[0] == (
        f'~ update application "gumroad-auth0-gate prod SPA" ({IDS[SPA]}): allowed_logout_urls [{SPA_URL}] -> '
        "[https://courses.example.org]"
    )


def test_the_grant_holds_exactly_the_services_scopes() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    grant = replace(
        found.grants[0], scopes=("read:users", "update:users", "create:users", "read:roles", "delete:users")
    )

    [step] = plan(desired, replace(found, grants=(grant,)), TARGETS).steps

    assert step.kind == "update_grant"
    assert step.payload == {"scope": sorted(SERVICE_SCOPES)}
    assert list(step.lines) == [
        f"+ add scope create:role_members to the grant of the service's application on the Management API "
        f"({MANAGEMENT})",
        f"+ add scope delete:role_members to the grant of the service's application on the Management API "
        f"({MANAGEMENT})",
        f"- remove scope delete:users from the grant of the service's application on the Management API ({MANAGEMENT})",
    ]


def test_a_grant_holding_every_scope_the_service_calls_with_and_one_more_is_planned_down_to_them() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    grant = replace(found.grants[0], scopes=(*SERVICE_SCOPES, "delete:users"))

    [step] = plan(desired, replace(found, grants=(grant,)), TARGETS).steps

    assert (step.kind, step.target) == ("update_grant", grant.id)
    assert step.payload == {"scope": sorted(SERVICE_SCOPES)}
    assert list(step.lines) == [
        f"- remove scope delete:users from the grant of the service's application on the Management API ({MANAGEMENT})"
    ]


def test_the_connection_gets_sign_ups_off_again_and_keeps_its_other_options_and_clients() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    assert found.connection is not None
    connection = replace(
        found.connection,
        options={**found.connection.options, "disable_signup": False},
        enabled_clients=("someoneElsesApp", IDS[SPA]),
    )

    steps = plan(desired, replace(found, connection=connection), TARGETS).steps

    assert [step.kind for step in steps] == ["update_connection", "enable_connection"]
    assert steps[0].payload["options"] == {
        "disable_signup": True,
        "brute_force_protection": True,
        "passwordPolicy": "good",
    }
    assert steps[0].lines == ("~ update database connection courses-buyers (con_1): disable_signup off -> on",)
    assert steps[1].payload == {"connection": "courses-buyers", "client_ids": sorted([IDS[SERVICE], IDS[LOGIN]])}


# --- what is not ours -------------------------------------------------------------------------------


def test_an_api_with_the_audience_that_ops_did_not_create_is_refused_unless_adopted() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    assert found.api is not None
    found = replace(found, api=replace(found.api, name="Courses"))

    refused = plan(desired, found, TARGETS)
    adopted = plan(desired, found, TARGETS, adopt=["Courses"])

    assert refused.refusals == (
        f'API {AUDIENCE} exists and ops tenant did not create it (its name is "Courses"): pass --adopt "Courses" '
        "to manage it, or set AUTH0_AUDIENCE to a new identifier",
    )
    assert [step.kind for step in refused.steps] == []
    assert adopted.refusals == ()
    assert [(step.kind, step.payload) for step in adopted.steps] == [
        ("update_api", {"name": "gumroad-auth0-gate prod API"})
    ]


def test_a_role_of_the_same_name_that_ops_did_not_create_is_refused_and_left_alone() -> None:
    desired = with_catalogue_ids(desired_state(needs(courses=(HANDBOOK,))))
    found = settled(desired)
    hand_made = replace(found.roles[0], description="Made in the dashboard", permissions=())

    result = plan(desired, replace(found, roles=(hand_made,)), TARGETS)

    assert result.refusals == (
        f"role course:serverless-handbook exists as {ROLE_IDS[HANDBOOK.slug]} and ops tenant did not create it (its "
        'description does not end "(managed by gumroad-auth0-gate, stage prod)"): pass --adopt '
        '"course:serverless-handbook" to manage it',
    )
    assert result.steps == ()


def test_an_adopted_role_gets_the_mark_and_the_permission() -> None:
    desired = with_catalogue_ids(desired_state(needs(courses=(HANDBOOK,))))
    found = settled(desired)
    hand_made = replace(found.roles[0], description="Made in the dashboard", permissions=())

    result = plan(desired, replace(found, roles=(hand_made,)), TARGETS, adopt=["course:serverless-handbook"])

    assert [step.kind for step in result.steps] == ["update_role", "add_role_permissions"]
    assert result.steps[0].payload == {"description": desired.roles[0].description}


@pytest.mark.parametrize("adopt", [[], ["course:serverless-handbook"]])
def test_another_stages_role_in_a_shared_tenant_is_refused_even_when_adopted(adopt: list[str]) -> None:
    dev = desired_state(needs(stage="dev", courses=(HANDBOOK,)))
    prods = settled(with_catalogue_ids(desired_state(needs(courses=(HANDBOOK,))))).roles

    result = plan(dev, replace(settled(dev), roles=prods), TARGETS, adopt=adopt)

    assert result.refusals == (
        f"role course:serverless-handbook exists as {ROLE_IDS[HANDBOOK.slug]} and belongs to stage prod (its "
        'description ends "(managed by gumroad-auth0-gate, stage prod)"): ops tenant never takes over another '
        "stage's role, even with --adopt; give each stage its own Auth0 tenant",
    )
    assert [step.kind for step in result.steps if step.kind in ("update_role", "add_role_permissions")] == []
    assert not any(ROLE_IDS[HANDBOOK.slug] in text for text in result.lines)


def test_a_role_whose_description_only_mentions_a_stage_mark_is_not_another_stages() -> None:
    desired = with_catalogue_ids(desired_state(needs(courses=(HANDBOOK,))))
    found = settled(desired)
    hand_made = replace(found.roles[0], description="Not (managed by gumroad-auth0-gate, stage dev) any more")

    result = plan(desired, replace(found, roles=(hand_made,)), TARGETS)

    assert result.refusals[0].endswith('pass --adopt "course:serverless-handbook" to manage it')


def test_an_application_of_the_same_name_without_the_mark_is_refused_unless_adopted() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    spa = replace(found.clients[0], metadata={})
    found = replace(found, clients=(spa, *found.clients[1:]))

    refused = plan(desired, found, TARGETS)
    adopted = plan(desired, found, TARGETS, adopt=["gumroad-auth0-gate prod SPA"])

    assert refused.refusals == (
        f'application "gumroad-auth0-gate prod SPA" exists as {IDS[SPA]} and ops tenant did not create it (its '
        f'client_metadata lacks managed_by={MANAGED_BY}): pass --adopt "gumroad-auth0-gate prod SPA" to manage it',
    )
    assert [(step.kind, step.payload) for step in adopted.steps] == [
        ("update_client", {"client_metadata": client_metadata("prod", SPA)})
    ]


def test_several_applications_carrying_one_applications_mark_are_refused_naming_each() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    copy = FoundClient("spaClientCopy01", "gumroad-auth0-gate prod SPA (copy)", {}, client_metadata("prod", SPA))

    result = plan(desired, replace(found, clients=(*found.clients, copy)), TARGETS)

    assert result.refusals == (
        f'application "gumroad-auth0-gate prod SPA": several applications carry its mark ({IDS[SPA]}, '
        "spaClientCopy01); delete all but one",
    )
    assert result.steps == ()


def test_another_stages_application_is_neither_used_nor_refused() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    dev_spa = FoundClient("devSpaClient001", "gumroad-auth0-gate dev SPA", {}, client_metadata("dev", SPA))

    result = plan(desired, replace(found, clients=(dev_spa, *found.clients)), TARGETS)

    assert (result.steps, result.refusals) == ((), ())


def test_the_tenants_own_database_connection_is_refused_with_how_to_adopt_it() -> None:
    desired = with_catalogue_ids(desired_state(needs(connection="Username-Password-Authentication")))
    found = settled(desired)
    assert found.connection is not None
    default = replace(found.connection, metadata={}, options={"disable_signup": False, "mfa": {"active": True}})

    refused = plan(desired, replace(found, connection=default), TARGETS)
    adopted = plan(desired, replace(found, connection=default), TARGETS, adopt=["Username-Password-Authentication"])

    assert refused.refusals == (
        "database connection Username-Password-Authentication exists (con_1) and ops tenant did not create it (its "
        f'metadata lacks managed_by={MANAGED_BY}, stage=prod): pass --adopt "Username-Password-Authentication" to '
        "manage it (sign-ups then go off and its applications are enabled on it), or set AUTH0_CONNECTION to a new "
        "name",
    )
    [update] = adopted.steps
    assert update.payload == {
        "options": {"disable_signup": True, "brute_force_protection": True, "mfa": {"active": True}},
        "metadata": connection_metadata("prod"),
    }


def test_a_connection_that_is_not_a_database_is_refused() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = settled(desired)
    assert found.connection is not None

    result = plan(desired, replace(found, connection=replace(found.connection, strategy="google-oauth2")), TARGETS)

    assert result.refusals == (
        "database connection courses-buyers is a google-oauth2 connection, not a database one (strategy auth0)",
    )


# --- the Action -------------------------------------------------------------------------------------

ACTION = ActionSpec(
    name="gumroad-auth0-gate prod post-login",
    code="exports.onExecutePostLogin = async () => {};",
    runtime="node22",
    secrets={"POST_LOGIN_SECRET": "s3cr3t-value-never-shown"},
)


def test_a_new_action_is_created_deployed_and_bound_and_its_secret_never_shown() -> None:
    desired = replace(with_catalogue_ids(desired_state(needs())), action=ACTION)

    result = plan(desired, settled(desired), TARGETS)

    assert [(step.kind, step.ready) for step in result.steps] == [
        ("create_action", True),
        ("deploy_action", False),
        ("bind_action", False),
    ]
    assert "s3cr3t" not in "\n".join(result.lines)
    assert result.steps[0].payload["secrets"] == [{"name": "POST_LOGIN_SECRET", "value": "s3cr3t-value-never-shown"}]


def test_changed_action_code_is_updated_and_deployed_and_an_unbound_action_is_bound() -> None:
    desired = replace(with_catalogue_ids(desired_state(needs())), action=ACTION)
    action = FoundAction("act_1", ACTION.name, "old code", "node22", ("POST_LOGIN_SECRET",), deployed=True)
    others = (FoundBinding("act_other", "Someone else's"),)

    result = plan(desired, replace(settled(desired), action=action, bindings=others), TARGETS)

    assert [step.kind for step in result.steps] == ["update_action", "deploy_action", "bind_action"]


def test_a_deployed_and_bound_action_needs_nothing() -> None:
    desired = replace(with_catalogue_ids(desired_state(needs())), action=ACTION)
    action = FoundAction("act_1", ACTION.name, ACTION.code, "node22", ("POST_LOGIN_SECRET",), deployed=True)

    result = plan(desired, replace(settled(desired), action=action, bindings=(FoundBinding("act_1", "x"),)), TARGETS)

    assert result.steps == ()


ACTION_TARGETS = replace(SECRET_TARGETS, credential_keys=(*SECRET_TARGETS.credential_keys, "post_login_secret"))


def an_action_in_place(desired: Desired, **changes: Any) -> Found:
    """The Action deployed and bound, the service's credentials stored; ``changes`` to ``Found``."""
    action = FoundAction("act_1", ACTION.name, ACTION.code, "node22", ("POST_LOGIN_SECRET",), deployed=True)
    stored = {"client_id": IDS[SERVICE], "client_secret": "m2m-secret-value", "login_client_secret": "login-value"}
    found = replace(
        settled(desired),
        action=action,
        bindings=(FoundBinding("act_1", ACTION.name),),
        client_secrets={IDS[SERVICE]: "m2m-secret-value", IDS[LOGIN]: "login-value"},
        stored_credentials=Credentials({**stored, "post_login_secret": "s3cr3t-value-never-shown"}),
    )
    return replace(found, **changes)


def test_an_action_secret_the_service_does_not_hold_yet_is_set_deployed_and_stored_without_being_shown() -> None:
    desired = replace(with_catalogue_ids(desired_state(needs())), action=ACTION)
    before = an_action_in_place(desired)
    assert before.stored_credentials is not None
    values = {key: value for key, value in before.stored_credentials.values.items() if key != "post_login_secret"}

    result = plan(desired, replace(before, stored_credentials=Credentials(values)), ACTION_TARGETS)

    assert [step.kind for step in result.steps] == ["update_action", "deploy_action", "write_credentials"]
    assert result.lines[0] == (
        '~ update secrets of Action "gumroad-auth0-gate prod post-login" (act_1): POST_LOGIN_SECRET (values not shown)'
    )
    assert result.steps[0].payload["secrets"] == [{"name": "POST_LOGIN_SECRET", "value": "s3cr3t-value-never-shown"}]
    assert result.steps[2].payload["values"]["post_login_secret"] == "s3cr3t-value-never-shown"
    assert "s3cr3t" not in "\n".join(result.lines)


def test_an_action_whose_secret_the_service_holds_needs_nothing() -> None:
    desired = replace(with_catalogue_ids(desired_state(needs())), action=ACTION)

    assert plan(desired, an_action_in_place(desired), ACTION_TARGETS).steps == ()


def test_an_action_whose_secrets_this_apply_just_set_is_not_updated_again_and_the_secret_is_stored() -> None:
    desired = replace(with_catalogue_ids(desired_state(needs())), action=ACTION)
    found = an_action_in_place(desired)
    assert found.action is not None
    assert found.stored_credentials is not None
    values = {key: value for key, value in found.stored_credentials.values.items() if key != "post_login_secret"}
    found = replace(found, action=replace(found.action, secrets_sent=True), stored_credentials=Credentials(values))

    assert [step.kind for step in plan(desired, found, ACTION_TARGETS).steps] == ["write_credentials"]


def test_a_service_url_other_than_the_one_the_action_was_given_sets_its_secrets_again_and_records_the_new_one() -> None:
    # Step 5 of the guide gives the Action a stand-in address; the stack's, once deployed, must replace it. Auth0
    # never shows the secret, so the credentials' record of the URL is what tells the two apart.
    given = "https://api.example.com/auth0/post-login"
    stack = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/auth0/post-login"
    desired = replace(
        with_catalogue_ids(desired_state(needs())),
        action=replace(ACTION, secrets={**ACTION.secrets, "POST_LOGIN_URL": stack}),
    )
    before = an_action_in_place(desired)
    assert before.action is not None
    assert before.stored_credentials is not None
    stored = Credentials({**before.stored_credentials.values, "post_login_url": given})
    found = replace(
        before,
        action=replace(before.action, secret_names=("POST_LOGIN_SECRET", "POST_LOGIN_URL")),
        stored_credentials=stored,
    )
    targets = replace(ACTION_TARGETS, credential_keys=(*ACTION_TARGETS.credential_keys, "post_login_url"))

    result = plan(desired, found, targets)

    assert [step.kind for step in result.steps] == ["update_action", "deploy_action", "write_credentials"]
    assert {"name": "POST_LOGIN_URL", "value": stack} in result.steps[0].payload["secrets"]
    assert result.steps[2].payload["values"]["post_login_url"] == stack
    settled_found = replace(found, stored_credentials=Credentials({**stored.values, "post_login_url": stack}))
    assert plan(desired, settled_found, targets).steps == ()


# --- credentials ------------------------------------------------------------------------------------


def test_credentials_are_written_when_the_destination_holds_others_and_never_shown() -> None:
    desired = with_catalogue_ids(desired_state(needs()))
    found = replace(
        settled(desired),
        client_secrets={IDS[SERVICE]: "m2m-secret-value", IDS[LOGIN]: "login-secret-value"},
        stored_credentials=Credentials({"client_id": IDS[SERVICE], "client_secret": "an-older-secret"}),
    )

    [step] = plan(desired, found, SECRET_TARGETS).steps

    assert step.kind == "write_credentials"
    assert step.lines == (
        "~ write client_secret, login_client_secret in Secrets Manager secret gumroad-auth0-gate/prod "
        "(values not shown)",
    )
    assert step.payload == {
        "values": {
            "client_id": IDS[SERVICE],
            "client_secret": "m2m-secret-value",
            "login_client_secret": "login-secret-value",
        }
    }
    assert "secret-value" not in repr(step)


def test_credentials_the_destination_already_holds_need_nothing() -> None:
    desired = with_catalogue_ids(desired_state(needs(login=False)))
    found = replace(
        settled(desired),
        client_secrets={IDS[SERVICE]: "m2m-secret-value"},
        stored_credentials=Credentials({"client_id": IDS[SERVICE], "client_secret": "m2m-secret-value"}),
    )

    assert plan(desired, found, SECRET_TARGETS).steps == ()


@pytest.mark.parametrize("login", [True, False])
def test_credentials_of_applications_still_to_create_wait_for_them(login: bool) -> None:
    result = plan(desired_state(needs(login=login)), Found(), SECRET_TARGETS)

    [step] = [step for step in result.steps if step.kind == "write_credentials"]
    assert not step.ready
    assert result.notes == ()
