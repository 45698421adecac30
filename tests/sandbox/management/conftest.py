"""The Management API tests that read as ``ops check`` does, with the check application token."""

from __future__ import annotations

import pytest

from sandbox.server import SandboxServer
from tests.sandbox.support import CHECK_ID, CHECK_SECRET, token_for


@pytest.fixture(scope="module")
def check_token(server: SandboxServer) -> str:
    token: str = token_for(server, CHECK_ID, CHECK_SECRET)["access_token"]
    return token
