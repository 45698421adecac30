"""Brute-force protection under a burst: each try is reserved before its password is checked, so the limit holds.

Real threads, each on its own connection, against the real server: the password-realm grant and the
login page both count tries per user and IP address, and 10 wrong ones block that pair.
"""

from __future__ import annotations

from collections import Counter

from sandbox.defaults import DEFAULT_LOGIN_CLIENT_ID, DEFAULT_LOGIN_CLIENT_SECRET, MAX_FAILED_LOGINS, PASSWORD_GRANT
from sandbox.server import SandboxServer
from tests.sandbox.browser import Browser, Pkce, seed_buyer
from tests.sandbox.support import API_AUDIENCE, CONNECTION, PASSWORD
from tests.simultaneous import Answer, all_at_once, post_form

BURST = 30
ATTACKER_IP = "198.51.100.30"


def test_thirty_simultaneous_wrong_passwords_for_the_grant_check_ten_and_the_right_one_after_them_is_refused(
    server: SandboxServer,
) -> None:
    seed_buyer(server)

    def guess(password: str) -> Answer:
        form = {
            "grant_type": PASSWORD_GRANT,
            "client_id": DEFAULT_LOGIN_CLIENT_ID,
            "client_secret": DEFAULT_LOGIN_CLIENT_SECRET,
            "username": "buyer@example.com",
            "password": password,
            "realm": CONNECTION,
            "audience": API_AUDIENCE,
        }
        return post_form(server.port, "/oauth/token", form, {"auth0-forwarded-for": ATTACKER_IP})

    answers, right = all_at_once(BURST, lambda _: guess("not the password"), meanwhile=lambda: guess(PASSWORD))
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {403: MAX_FAILED_LOGINS, 429: BURST - MAX_FAILED_LOGINS}, answers
    assert right is not None
    assert right.status == 429
    outcomes = Counter(login["outcome"] for login in server.tenant.logins)
    assert outcomes == {"wrong_password": MAX_FAILED_LOGINS, "blocked": BURST - MAX_FAILED_LOGINS + 1}
    print(f"\n{BURST} simultaneous wrong passwords (password-realm): {statuses[403]} checked, {statuses[429]} refused")


def test_thirty_simultaneous_wrong_passwords_on_the_login_page_check_ten_and_the_right_one_is_refused(
    server: SandboxServer,
) -> None:
    seed_buyer(server)
    page = Browser(server).login_page(Pkce())
    action = page.url.removeprefix(server.base_url)
    transaction = action.split("state=", 1)[1]

    def guess(password: str) -> Answer:
        form = {"state": transaction, "username": "buyer@example.com", "password": password}
        return post_form(server.port, action, form)

    answers, right = all_at_once(BURST, lambda _: guess("not the password"), meanwhile=lambda: guess(PASSWORD))
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {400: MAX_FAILED_LOGINS, 429: BURST - MAX_FAILED_LOGINS}, answers
    assert right is not None
    assert right.status == 429
    assert "set-cookie" not in right.headers
    assert Counter(login["outcome"] for login in server.tenant.logins)["wrong_password"] == MAX_FAILED_LOGINS
    print(f"\n{BURST} simultaneous wrong passwords (login page): {statuses[400]} checked, {statuses[429]} refused")


def test_a_right_password_resets_the_count_and_a_blocked_account_s_right_password_gives_its_try_back(
    server: SandboxServer,
) -> None:
    user_id = seed_buyer(server)
    browser = Browser(server)
    page = browser.login_page(Pkce())
    for _ in range(MAX_FAILED_LOGINS - 1):
        page = browser.submit(page, "buyer@example.com", "not the password")
    server.tenant.update_user(user_id, {"blocked": True})
    for _ in range(3):  # the right password of a blocked user is neither a failure nor a held try
        assert browser.submit(page, "buyer@example.com", PASSWORD).status_code == 401
    server.tenant.update_user(user_id, {"blocked": False})
    assert browser.submit(page, "buyer@example.com", PASSWORD).status_code == 302
    again = Browser(server)
    page = again.login_page(Pkce())
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert again.submit(page, "buyer@example.com", "not the password").status_code == 400
    assert again.submit(page, "buyer@example.com", PASSWORD).status_code == 302
