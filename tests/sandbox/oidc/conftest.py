"""A tenant with a second single-page application, for the rules that bind codes and tokens to their client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from sandbox.server import SandboxServer

OTHER_SPA_CLIENT_ID = "sandbox-second-spa-client"


@pytest.fixture
def two_spas() -> Iterator[SandboxServer]:
    """Both public clients registered for the same origin, so only the client binding tells them apart."""
    sandbox = SandboxServer(port=0, state_path=None)
    sandbox.clients[OTHER_SPA_CLIENT_ID] = replace(sandbox.spa, client_id=OTHER_SPA_CLIENT_ID)  # before start()
    with sandbox:
        yield sandbox
