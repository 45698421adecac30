"""The Management API's tests: a sandbox whose tokens live LIFETIME seconds (so the API reports a lifetime that
is not the default), and the check application's token, read as ``ops check`` reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.defaults import DEFAULT_TENANT_CLIENT_ID, DEFAULT_TENANT_CLIENT_SECRET
from sandbox.server import SandboxServer
from tests.sandbox.support import CHECK_ID, CHECK_SECRET, LIFETIME, token_for


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(token_lifetime_seconds=LIFETIME) as running:
        yield running


@pytest.fixture(scope="module")
def check_token(module_sandbox: SandboxServer) -> str:
    token: str = token_for(module_sandbox, CHECK_ID, CHECK_SECRET)["access_token"]
    return token


@pytest.fixture
def bare() -> Iterator[SandboxServer]:
    """``serve --bare``: only the bootstrap application, nothing else until the Management API makes it."""
    with SandboxServer(bare=True) as running:
        yield running


@pytest.fixture
def bootstrap_token(bare: SandboxServer) -> str:
    """The bootstrap application's token, as ``ops tenant`` gets it (client_credentials)."""
    token: str = token_for(bare, DEFAULT_TENANT_CLIENT_ID, DEFAULT_TENANT_CLIENT_SECRET)["access_token"]
    return token
