"""A sandbox per test module; ``server`` hands it over with the tenant forgotten, ``management`` is auth0-python."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from auth0.management import Auth0

from sandbox.server import SandboxServer
from tests.sandbox.support import TIMEOUT, m2m_token


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, state_path=None) as running:
        yield running


@pytest.fixture
def server(module_sandbox: SandboxServer) -> SandboxServer:
    """Users, sign-ins, faults, counters and the rate limit forgotten: every test starts alike."""
    module_sandbox.tenant.reset()
    module_sandbox.faults.clear()
    module_sandbox.stats.reset()
    module_sandbox.limiter.configure(None)
    return module_sandbox


@pytest.fixture
def management(server: SandboxServer) -> Iterator[Auth0]:
    with httpx.Client(timeout=TIMEOUT) as client:
        yield Auth0(
            base_url=f"{server.base_url}/api/v2",
            token=m2m_token(server),
            max_retries=0,
            httpx_client=client,
        )
