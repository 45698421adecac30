"""The lifetimes of sign-in state, on a clock the test moves: transactions, codes, sessions, refresh tokens."""

from __future__ import annotations

import pytest

from sandbox.defaults import (
    AUTHORIZATION_CODE_SECONDS,
    LOGIN_TRANSACTION_SECONDS,
    REFRESH_TOKEN_IDLE_SECONDS,
    REFRESH_TOKEN_MAX_SECONDS,
    SESSION_IDLE_SECONDS,
    SESSION_MAX_SECONDS,
)
from sandbox.tenant.sign_ins import Authorization, RefreshGrant, SignInRejected, SignInStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


AUTHORIZATION = Authorization(
    client_id="sandbox-spa-client",
    redirect_uri="http://127.0.0.1:3000",
    response_mode="query",
    state="s",
    nonce="n",
    code_challenge="c" * 43,
    scope="openid offline_access",
    audience="https://courses.local/api",
)


def grant(family: str = "f1") -> RefreshGrant:
    return RefreshGrant(
        family=family,
        client_id="sandbox-spa-client",
        user_id="auth0|1",
        scope="openid offline_access",
        audience=None,
        auth_time=0,
        sid="sid",
        idle_until=0,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> SignInStore:
    return SignInStore(clock=clock)


def test_a_login_transaction_expires(store: SignInStore, clock: Clock) -> None:
    transaction = store.begin(AUTHORIZATION)
    clock.now += LOGIN_TRANSACTION_SECONDS - 1
    assert store.pending(transaction) == AUTHORIZATION
    clock.now += 2
    with pytest.raises(SignInRejected):
        store.pending(transaction)
    with pytest.raises(SignInRejected):
        store.finish(transaction)


def test_a_code_expires_within_minutes(store: SignInStore, clock: Clock) -> None:
    _, session = store.open_session("auth0|1")
    fresh, stale = store.issue_code(AUTHORIZATION, session), store.issue_code(AUTHORIZATION, session)
    assert store.redeem_code(fresh).user_id == "auth0|1"
    clock.now += AUTHORIZATION_CODE_SECONDS + 1
    with pytest.raises(SignInRejected):
        store.redeem_code(stale)


def test_a_session_ends_when_idle_and_at_its_maximum_age(store: SignInStore, clock: Clock) -> None:
    idle_cookie, _ = store.open_session("auth0|1")
    busy_cookie, _ = store.open_session("auth0|1")
    clock.now += SESSION_IDLE_SECONDS - 10
    assert store.session(busy_cookie) is not None  # use restarts the idle timer
    clock.now += 20
    assert store.session(idle_cookie) is None
    assert store.session(busy_cookie) is not None
    while clock.now < 1_800_000_000.0 + SESSION_MAX_SECONDS - SESSION_IDLE_SECONDS / 2:
        clock.now += SESSION_IDLE_SECONDS / 2
        assert store.session(busy_cookie) is not None
    clock.now += SESSION_IDLE_SECONDS
    assert store.session(busy_cookie) is None


def test_a_refresh_token_expires_when_idle_and_its_family_at_its_maximum_age(store: SignInStore, clock: Clock) -> None:
    idle = store.issue_refresh_token(grant("idle"))
    clock.now += REFRESH_TOKEN_IDLE_SECONDS + 1
    with pytest.raises(SignInRejected):
        store.rotate(idle, "sandbox-spa-client")
    token = store.issue_refresh_token(grant("busy"))
    started = clock.now
    while clock.now + REFRESH_TOKEN_IDLE_SECONDS / 2 < started + REFRESH_TOKEN_MAX_SECONDS:
        clock.now += REFRESH_TOKEN_IDLE_SECONDS / 2
        token = store.issue_refresh_token(store.rotate(token, "sandbox-spa-client"))
    clock.now = started + REFRESH_TOKEN_MAX_SECONDS + 1
    with pytest.raises(SignInRejected):
        store.rotate(token, "sandbox-spa-client")


def test_only_digests_of_the_secrets_are_kept(store: SignInStore) -> None:
    cookie, session = store.open_session("auth0|1")
    code = store.issue_code(AUTHORIZATION, session)
    token = store.issue_refresh_token(grant())
    kept = repr(vars(store))
    for secret in (cookie, code, token):
        assert secret not in kept
