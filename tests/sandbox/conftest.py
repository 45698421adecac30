"""One sandbox per module, its tenant forgotten before each test (sign-ins included)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, state_path=None) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_tenant(server: SandboxServer) -> None:
    server.tenant.reset()
    server.faults.clear()
