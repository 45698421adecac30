"""Fixtures: an in-memory Auth0 sandbox on an ephemeral loopback port, and the real app talking to it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from sandbox.server import SandboxServer
from tests.chalice_client import app_client
from tests.integration.harness import (
    CATALOGUE,
    GUMROAD_RETRY_STATUSES,
    ROOT,
    Delivery,
    basic_auth,
    service_environment,
)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, state_path=None, catalogue=ROOT / CATALOGUE) as server:
        yield server


@dataclass
class Service:
    """The app through chalice.test.Client; its Auth0 is the sandbox, over real HTTP."""

    client: Client
    sandbox: SandboxServer

    def ping(self, body: str) -> Any:
        return self.client.http.post("/gumroad/ping", headers=basic_auth(), body=body)

    def deliver(self, body: str, *, attempts: int = 4, pause: float = 0.0) -> Delivery:
        """Deliver like Gumroad: retry on 499/500/502/503/504, at most ``attempts`` times,
        appending ``retry_count`` as Gumroad does (its delays, 60-600 s, are compressed to ``pause``)."""
        delivery = Delivery()
        for attempt in range(attempts):
            sent = body if attempt == 0 else f"{body}&retry_count={attempt}"
            response = self.ping(sent)
            delivery.statuses.append(response.status_code)
            delivery.bodies.append(json.loads(response.body))
            if response.status_code not in GUMROAD_RETRY_STATUSES:
                break
            time.sleep(pause)
        return delivery

    def get(self, path: str, token: str) -> Any:
        return self.client.http.get(path, headers={"Authorization": f"Bearer {token}"})

    def courses_of(self, email: str) -> list[str]:
        """The course slugs a freshly issued token for ``email`` opens."""
        response = self.get("/courses", self.sandbox.user_token(email))
        assert response.status_code == 200, response.body
        return [course["slug"] for course in json.loads(response.body)["courses"]]

    def users_with(self, email: str) -> list[dict[str, Any]]:
        return [user for user in self.sandbox.tenant.describe()["users"] if user["email"] == email]


@pytest.fixture
def service(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    for name, value in service_environment(sandbox).items():
        monkeypatch.setenv(name, value)
    for name in ("AUTH0_SECRET_ID", "BUYER_ONBOARDING", "GUMROAD_PROVISION_TEST_PURCHASES", "CORS_ALLOW_ORIGIN"):
        monkeypatch.delenv(name, raising=False)
    wiring.clear_caches()
    with app_client() as client:
        yield Service(client=client, sandbox=sandbox)
    wiring.clear_caches()
