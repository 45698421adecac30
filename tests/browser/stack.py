"""The servers a student's browser talks to, on ephemeral 127.0.0.1 ports, and the Chromium that talks to them:
the Auth0 sandbox, the app under `chalice local`, the local S3 endpoint with content/ (its own process) and the SPA.

Shared by the browser tests (tests/browser/conftest.py) and bench/refund_to_locked.py.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from playwright.sync_api import Browser, Playwright

from devstack.stack import LocalContent, LocalStage, spawn_local_s3
from sandbox.server import SandboxServer
from tests.browser.hosting import spa_headers
from tests.browser.site import StaticSite, build_spa
from tests.integration.harness import AUDIENCE, CATALOGUE, ROOT, ChaliceLocal, chalice_local

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# The flags Debian's Chromium needs here: root (no sandbox), no GPU, and no calls home on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PURCHASE_URL = "https://sahil.gumroad.com/l/pencil"
# Lesson URLs live this long here (300 s by default): the journeys see one expire under an open page, and renewed.
LESSON_URL_LIFETIME_SECONDS = 10


@dataclass
class Stack:
    """The sandbox, the real app under `chalice local`, and the SPA built for both."""

    sandbox: SandboxServer
    service: ChaliceLocal
    spa_url: str
    content: LocalContent

    def outbox_code(self, email: str) -> str:
        """The newest passwordless code e-mailed to ``email``."""
        answer = requests.get(f"{self.sandbox.base_url}/sandbox/outbox", params={"to": email}, timeout=10)
        answer.raise_for_status()
        codes = [message["code"] for message in answer.json()["messages"] if message["kind"] == "passwordless_code"]
        assert codes, f"no code e-mailed to {email}"
        return str(codes[-1])

    def outbox_link(self, email: str) -> str:
        """The newest set-password link e-mailed to ``email`` (read over HTTP, like a mail client would)."""
        answer = requests.get(f"{self.sandbox.base_url}/sandbox/outbox", params={"to": email}, timeout=10)
        answer.raise_for_status()
        links = [message["ticket_url"] for message in answer.json()["messages"] if "ticket_url" in message]
        assert links, f"no set-password e-mail for {email}"
        return str(links[-1])


@contextmanager
def browser_stack(work_dir: Path, *, access_token_lifetime: int) -> Iterator[Stack]:
    """Start the four servers; ``work_dir`` holds the build and the service's throwaway project."""
    # The SPA's port is taken first: its origin goes into the sandbox's SPA client, the service's CORS, the bucket's
    # CORS rule (the SPA reads text lessons with fetch) and the build.
    (work_dir / "spa-dist").mkdir(parents=True, exist_ok=True)
    local = LocalStage.read()
    with StaticSite(work_dir / "spa-dist") as site:
        lessons = spawn_local_s3(local.content, port=0, cors_origins=[site.url], echo=False)
        try:
            content_url = lessons.wait_until_serving()
            port = urlsplit(content_url).port
            assert port is not None
            content = dataclasses.replace(local.content, endpoint_url=content_url, port=port)
            service_environment = {
                "CORS_ALLOW_ORIGIN": site.url,
                **content.service_environment(),
                "CONTENT_PREFIX": local.environment["CONTENT_PREFIX"],
                "CONTENT_URL_LIFETIME_SECONDS": str(LESSON_URL_LIFETIME_SECONDS),
            }
            with (
                SandboxServer(
                    port=0,
                    state_path=None,
                    catalogue=ROOT / CATALOGUE,
                    spa_origins=(site.url,),
                    access_token_lifetime=access_token_lifetime,
                ) as sandbox,
                chalice_local(sandbox, work_dir, environment=service_environment) as service,
            ):
                # Served as the stack's CloudFront serves it: under its CSP, for these origins.
                site.headers.update(
                    spa_headers(tenant=sandbox.base_url, api=service.base_url, content=content.endpoint_url)
                )
                build_spa(
                    site.root,
                    {
                        "VITE_AUTH0_DOMAIN": sandbox.base_url,
                        "VITE_AUTH0_CLIENT_ID": sandbox.spa.client_id,
                        "VITE_AUTH0_AUDIENCE": AUDIENCE,
                        "VITE_API_BASE_URL": service.base_url,
                        "VITE_PURCHASE_URL": PURCHASE_URL,
                    },
                )
                yield Stack(sandbox=sandbox, service=service, spa_url=site.url, content=content)
        finally:
            lessons.process.terminate()
            lessons.process.wait(timeout=10)


def launch_chromium(driver: Playwright, executable: Path = CHROMIUM) -> Browser:
    """Debian's Chromium, headless; launch() gives it a fresh throw-away profile (user-data-dir)."""
    return driver.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
