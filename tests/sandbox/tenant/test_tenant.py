"""The tenant's sign-in rules, through the password-realm grant: one person, one count, however the address is typed."""

from __future__ import annotations

import pytest
from auth0.authentication.exceptions import Auth0Error, RateLimitError

from sandbox.defaults import MAX_FAILED_LOGINS
from sandbox.server import SandboxServer
from tests.sandbox.browser import seed_buyer
from tests.sandbox.support import PASSWORD, login

SPELLINGS = [
    "Buyer@example.com",
    "bUyer@example.com",
    "buYer@example.com",
    "buyEr@example.com",
    "buyeR@example.com",
    "BUYER@EXAMPLE.COM",
    "buyer@Example.com",
    " buyer@example.com",
    "buyer@example.com ",
    "Buyer@Example.Com",
]


def test_the_lockout_counts_an_address_however_it_is_typed(server: SandboxServer) -> None:
    assert len(SPELLINGS) == MAX_FAILED_LOGINS
    seed_buyer(server)
    ip = "198.51.100.40"
    for spelling in SPELLINGS:
        with pytest.raises(Auth0Error) as wrong:
            login(server, spelling, "not the password", forwarded_for=ip)
        assert (wrong.value.status_code, wrong.value.error_code) == (403, "invalid_grant"), spelling
    with pytest.raises(RateLimitError) as blocked:
        login(server, "buyer@example.com", PASSWORD, forwarded_for=ip)
    assert blocked.value.error_code == "too_many_attempts"
    assert server.tenant.describe()["login_failures"] == {f"buyer@example.com {ip}": MAX_FAILED_LOGINS}
