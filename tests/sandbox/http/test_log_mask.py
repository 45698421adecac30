"""The request log: buyers' addresses masked as the service masks them, tickets hidden."""

from __future__ import annotations

import pytest
import requests

from sandbox.http.log_mask import mask_line
from sandbox.server import SandboxServer
from tests.sandbox.support import TIMEOUT


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
