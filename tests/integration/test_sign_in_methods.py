"""Every way a student signs in, over HTTP: the sandbox runs the post-login Action, which asks `chalice local`.

The OIDC client (devstack/oidc_client.py) does what the SPA does: authorization code + PKCE with a
``connection``, the sandbox's pages filled in, the code exchanged, and one refresh when the ID token says
the courses changed during the login. Sign-ups are on in this sandbox, so a squatter can register an address.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.oidc_client import (
    EMAIL_CODE,
    GOOGLE,
    GOOGLE_UNVERIFIED,
    PASSWORD,
    OidcClient,
    buy,
    courses,
    courses_after_sign_in,
    run_every_way,
    set_password,
)
from sandbox.defaults import DEFAULT_CONNECTION, DEFAULT_SPA_ORIGIN
from sandbox.server import SandboxServer
from tests.integration.harness import (
    CATALOGUE,
    HANDBOOK,
    PING_SECRET,
    POST_LOGIN_SECRET,
    ROOT,
    ChaliceLocal,
    chalice_local,
)


@pytest.fixture(scope="module")
def tenant() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, state_path=None, catalogue=ROOT / CATALOGUE, disable_signup=False) as server:
        yield server


@pytest.fixture(scope="module")
def local(tenant: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaliceLocal]:
    with chalice_local(tenant, tmp_path_factory.mktemp("sign-in-methods")) as server:
        yield server


@pytest.fixture
def client(tenant: SandboxServer) -> OidcClient:
    return OidcClient(tenant=tenant.base_url, redirect_uri=DEFAULT_SPA_ORIGIN)


def address(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}@example.com"


def outbox_of(tenant: SandboxServer, email: str) -> list[dict[str, object]]:
    return [message for message in tenant.tenant.describe()["outbox"] if message.get("to") == email]


def accounts_of(tenant: SandboxServer, email: str) -> list[dict[str, Any]]:
    return [user for user in tenant.tenant.describe()["users"] if user["email"] == email]


def test_every_verified_way_opens_the_course_and_an_unverified_google_account_nothing(
    tenant: SandboxServer, local: ChaliceLocal, client: OidcClient
) -> None:
    seen = run_every_way(client, service=local.base_url, ping_secret=PING_SECRET)
    assert [(way, slugs, said) for way, _, slugs, said in seen] == [
        (PASSWORD.name, [HANDBOOK], "none"),  # the account the sale created: nothing to do at sign-in
        (GOOGLE.name, [HANDBOOK], "linked"),  # linked into it during the login; the client renewed once
        (EMAIL_CODE.name, [HANDBOOK], "linked"),
        (GOOGLE_UNVERIFIED.name, [], "unverified"),
    ]
    buyer = seen[0][1]
    (account,) = accounts_of(tenant, buyer)  # one user: the Google and e-mail identities live inside it
    assert sorted(identity["provider"] for identity in account["identities"]) == ["auth0", "email", "google-oauth2"]

    again = client.sign_in(GOOGLE, buyer)  # the next Google sign-in is the primary user: no renewal needed
    assert again.sign_in == {}
    assert courses(local.base_url, again) == [HANDBOOK]


def test_google_first_then_a_purchase_lands_on_the_google_account_without_a_second_one(
    tenant: SandboxServer, local: ChaliceLocal, client: OidcClient
) -> None:
    student = address("google-first")
    assert courses_after_sign_in(client, local.base_url, GOOGLE, student) == ([], "none")

    buy(local.base_url, PING_SECRET, student)

    assert courses_after_sign_in(client, local.base_url, GOOGLE, student) == ([HANDBOOK], "none")
    (account,) = accounts_of(tenant, student)
    assert [identity["provider"] for identity in account["identities"]] == ["google-oauth2"]
    assert courses_after_sign_in(client, local.base_url, EMAIL_CODE, student) == ([HANDBOOK], "linked")


def test_a_squatters_sign_up_gets_nothing_and_the_owner_takes_the_purchase_with_an_email_code(
    tenant: SandboxServer, local: ChaliceLocal, client: OidcClient
) -> None:
    victim, squatters_password, owners_password = address("squatted"), "squatter's own pass 1", "owner's own pass 2"
    tenant.tenant.methods.sign_up(
        email=victim, password=squatters_password, connection=DEFAULT_CONNECTION, base_url=tenant.base_url
    )
    squatter = client.sign_in(PASSWORD, victim, password=squatters_password)
    assert squatter.refresh_token is not None
    assert squatter.sign_in == {"result": "unverified", "connection": DEFAULT_CONNECTION}

    buy(local.base_url, PING_SECRET, victim)  # held, ungranted, on the only user of the address: the squatter's
    squatter = client.renewed(squatter)  # rotation: the squatter keeps the newest refresh token
    assert courses(local.base_url, squatter) == []
    # No set-password e-mail (only the sign-up's verification one): a reset would not make that user the owner's.
    assert [message["kind"] for message in outbox_of(tenant, victim)] == ["verification_email"]

    # Even after the owner takes the password back ("Forgot password": the ticket verifies the address), that
    # user stays out: the squatter's refresh token lives on.
    tenant.tenant.request_password_reset(victim, client_id=tenant.login_client_id, base_url=tenant.base_url)
    set_password(tenant.base_url, victim, owners_password)
    assert courses_after_sign_in(client, local.base_url, PASSWORD, victim, password=owners_password) == (
        [],
        "unverified",
    )
    # A code sent to the mailbox proves it: the purchase moves to that user, which the squatter cannot reach.
    assert courses_after_sign_in(client, local.base_url, EMAIL_CODE, victim) == ([HANDBOOK], "granted")
    assert courses(local.base_url, client.renewed(squatter)) == []
    accounts = {str(account["user_id"]).split("|")[0]: account for account in accounts_of(tenant, victim)}
    assert sorted(accounts) == ["auth0", "email"]
    assert accounts["auth0"]["roles"] == []
    assert accounts["auth0"]["email_verified"] is True
    assert [role["permission"] for role in accounts["email"]["roles"]] == [f"read:course:{HANDBOOK}"]


def test_a_sign_in_the_service_cannot_answer_goes_through_and_opens_nothing_new(
    tenant: SandboxServer, local: ChaliceLocal, client: OidcClient
) -> None:
    buyer, password = address("unanswered"), "the buyer's password 3"
    buy(local.base_url, PING_SECRET, buyer)
    set_password(tenant.base_url, buyer, password)
    (action,) = tenant.tenant.actions.bound("post-login")
    secrets_before = dict(action.secrets)
    tenant.tenant.actions.set_secrets(action.id, {**secrets_before, "POST_LOGIN_SECRET": "not the service's"})
    try:
        unanswered = client.sign_in(GOOGLE, buyer)  # the service refuses the Action's call (401)
    finally:
        tenant.tenant.actions.set_secrets(action.id, secrets_before)
    assert unanswered.sign_in == {"result": "unavailable"}
    assert courses(local.base_url, unanswered) == []  # a second, empty account: never the buyer's courses
    assert secrets_before["POST_LOGIN_SECRET"] == POST_LOGIN_SECRET

    # The next Google sign-in, with the service answering, links that account into the buyer's.
    assert courses_after_sign_in(client, local.base_url, GOOGLE, buyer) == ([HANDBOOK], "linked")
    (account,) = accounts_of(tenant, buyer)
    assert sorted(identity["provider"] for identity in account["identities"]) == ["auth0", "google-oauth2"]
