"""The request log: buyers' addresses masked as the service masks them; tokens, secrets and tickets hidden."""

from __future__ import annotations

import pytest
import requests

from sandbox.http.log_mask import mask_line
from sandbox.server import SandboxServer
from tests.sandbox.browser import SPA, seed_buyer, signed_in
from tests.sandbox.support import TIMEOUT

# Every query parameter that can carry a token or a secret (OAuth 2.0, OIDC, token exchange, the ticket page).
SECRET_PARAMETERS = (
    "access_token",
    "client_assertion",
    "client_secret",
    "code",
    "code_verifier",
    "id_token",
    "id_token_hint",
    "password",
    "refresh_token",
    "subject_token",
    "ticket",
    "token",
)


def test_the_request_log_masks_buyer_addresses_and_hides_tickets(capfd: pytest.CaptureFixture[str]) -> None:
    with SandboxServer(quiet=False) as talkative:
        token = talkative.management_token()
        requests.get(
            f"{talkative.base_url}/api/v2/users-by-email",
            params={"email": "customer@example.com"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )
        requests.get(f"{talkative.base_url}/sandbox/outbox?to=o.brien@example.org", timeout=TIMEOUT)
        requests.get(f"{talkative.base_url}/sandbox/set-password?ticket=SeCrEtTiCkEt123", timeout=TIMEOUT)
    log = capfd.readouterr().err

    assert "users-by-email?email=c***r%40example.com" in log
    assert "outbox?to=o***n@example.org" in log
    assert "set-password?ticket=***" in log
    for secret in ("customer", "o.brien", "SeCrEtTiCkEt123"):
        assert secret not in log


def test_the_request_log_hides_every_token_and_secret_a_query_string_carries(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with SandboxServer(quiet=False) as talkative:
        seed_buyer(talkative)
        _, tokens = signed_in(talkative)
        id_token = tokens["id_token"]
        logout = requests.get(
            f"{talkative.base_url}/oidc/logout",
            params={"id_token_hint": id_token, "post_logout_redirect_uri": SPA},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert logout.status_code == 302
        carried = {name: f"value-4f1c-of-{name}" for name in SECRET_PARAMETERS}
        carried.update(refresh_token=tokens["refresh_token"], access_token=tokens["access_token"], id_token=id_token)
        requests.get(
            f"{talkative.base_url}/authorize",
            params={**carried, "login_hint": "buyer@example.com"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        # The name percent-encoded, as the server decodes it, and a token under a name the mask does not know.
        requests.get(f"{talkative.base_url}/authorize?id%5Ftoken%5Fhint={id_token}&hint={id_token}", timeout=TIMEOUT)
    log = capfd.readouterr().err

    assert "/oidc/logout?id_token_hint=***&post_logout_redirect_uri=" in log
    assert "login_hint=b***r%40example.com" in log
    for name in SECRET_PARAMETERS:
        assert f"{name}=***" in log, name
    jwt_parts = {part for token in (id_token, tokens["access_token"]) for part in token.split(".")}
    for secret in {*carried.values(), *jwt_parts, "buyer%40example.com", "buyer@example.com"}:
        assert secret not in log, secret


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('"GET /api/v2/users-by-email?email=customer%40example.com HTTP/1.1" 200 -', "c***r%40example.com"),
        ("GET /x?email=buyer%2Btag%40example.com&fields=email", "b***g%40example.com&fields=email"),
        ("GET /x?to=ab@example.com", "to=a***@example.com"),
        ("GET /x?to=a@example.com", "to=a***@example.com"),
    ],
)
def test_addresses_are_masked_as_the_service_masks_them(line: str, masked: str) -> None:
    assert masked in mask_line(line)
