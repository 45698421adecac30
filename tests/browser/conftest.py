"""Fixtures for the browser journeys: the sandbox, the real app (`chalice local`) and the SPA built for them,
all on ephemeral 127.0.0.1 ports, and Debian's Chromium driven by Playwright.

Nothing is downloaded: the browser is /usr/bin/chromium (or $CHROMIUM), installed by `make test` with apt-get
when missing. Without a browser, Node.js or the SPA's packages these tests skip with the reason; with CI=true
they fail instead, so CI can never go green without having run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, ViewportSize, sync_playwright

from sandbox.defaults import LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS
from tests.browser.site import VITE, require
from tests.browser.stack import CHROMIUM, Stack, browser_stack, launch_chromium
from tests.browser.student import Screenshots, Student

VIEWPORT: ViewportSize = {"width": 1100, "height": 720}
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.fixture(scope="session")
def chromium() -> Path:
    require(CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK), f"no Chromium at {CHROMIUM}")
    require(shutil.which("node") is not None, "Node.js is not installed (the SPA is built with Vite)")
    require(VITE.exists(), "spa/node_modules is missing (run `cd spa && npm ci`)")
    return CHROMIUM


@pytest.fixture(scope="session")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Access tokens live as long as in `make run`'s local stage: the journeys see a refund land as a developer would.
    with browser_stack(
        tmp_path_factory.mktemp("browser-stack"), access_token_lifetime=LOCAL_ACCESS_TOKEN_LIFETIME_SECONDS
    ) as started:
        yield started


@pytest.fixture(scope="session")
def playwright_driver(chromium: Path) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, chromium: Path) -> Iterator[Browser]:
    launched = launch_chromium(playwright_driver, chromium)
    yield launched
    launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so the page fixture knows whether to photograph a failure."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def csp_refusals() -> CspViolations:
    """What the page's CSP refused; a test that provokes a refusal on purpose takes it from here and checks it."""
    return CspViolations()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, csp_refusals: CspViolations) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    # The SPA is served under the stack's CSP (tests/browser/hosting.py): whatever it refuses, Chromium says so here.
    refused = csp_refusals
    opened.on("console", refused)
    yield opened
    reports = request.node.stash.get(_REPORTS, {})
    if any(report.failed for report in reports.values()):
        folder = Screenshots.for_failure(request.node.name)
        opened.screenshot(path=str(folder / "failure.png"), full_page=True)
    context.close()
    assert refused.messages == [], "the page broke its Content-Security-Policy"


class CspViolations:
    """Chromium's console lines about something the page's Content-Security-Policy refused."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.messages.append(message.text)

    def take(self) -> list[str]:
        """The refusals so far, which then no longer count against the page."""
        taken, self.messages = self.messages, []
        return taken


@pytest.fixture
def student(page: Page, stack: Stack, request: pytest.FixtureRequest) -> Student:
    return Student(page=page, spa_url=stack.spa_url, shots=Screenshots.for_test(request.node.name))
