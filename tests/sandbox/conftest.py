"""A sandbox per module for the browser sign-in tests; ``server`` hands it over with the tenant forgotten."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, state_path=None) as running:
        yield running


@pytest.fixture
def server(module_sandbox: SandboxServer) -> SandboxServer:
    """Users, sign-ins (sessions, codes, refresh tokens) and faults forgotten: every test starts alike."""
    module_sandbox.tenant.reset()
    module_sandbox.faults.clear()
    return module_sandbox
