"""The SPA's settings: `vite build` refuses one that is unset, a placeholder or the example's (an app built that way
could only fail in a student's browser), by the rule `ops spa publish` applies too; the dev server (`make run`)
shows which are missing instead."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chalicelib.errors import ServiceError
from ops.spa_build import SpaSetting, refuse_unusable
from tests.browser.site import SPA_DIR, VITE, SpaBuildFailed, build_spa, dev_server, require
from tests.browser.stack import PURCHASE_URL
from tests.browser.student import Screenshots

REAL = {
    "VITE_AUTH0_DOMAIN": "https://shop.eu.auth0.com",
    "VITE_AUTH0_CLIENT_ID": "Xq3VbN8sT0pL2mW5rY7uZ1aC4dE6fG9h",
    "VITE_AUTH0_AUDIENCE": "https://courses.shop.example/api",
    "VITE_API_BASE_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/api",
    "VITE_PURCHASE_URL": PURCHASE_URL,
}
# One of each kind of unusable value, and values that only look like one.
CASES = {
    "unset": {"VITE_AUTH0_CLIENT_ID": ""},
    "blank": {"VITE_API_BASE_URL": "  "},
    "placeholder": {"VITE_AUTH0_CLIENT_ID": "REPLACE_WITH_SPA_CLIENT_ID"},
    "pasted-command-argument": {"VITE_AUTH0_AUDIENCE": "<your API identifier>"},
    "example-tenant": {"VITE_AUTH0_DOMAIN": "your-tenant.us.auth0.com"},
    "example-tenant-as-url": {"VITE_AUTH0_DOMAIN": "https://your-tenant.us.auth0.com/"},
    "example-api": {"VITE_API_BASE_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/api"},
    "example-purchase-page": {"VITE_PURCHASE_URL": "https://yourname.gumroad.com/l/your-course"},
    "real": {},
    "real-custom-domain": {"VITE_AUTH0_DOMAIN": "https://login.shop.example"},
}


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    require(found is not None and VITE.exists(), "Node.js or spa/node_modules is missing")
    return str(found)


def test_a_build_with_unset_placeholder_or_example_settings_is_refused_naming_each(node: str, tmp_path: Path) -> None:
    settings = {
        **REAL,
        "VITE_AUTH0_DOMAIN": "your-tenant.us.auth0.com",
        "VITE_AUTH0_CLIENT_ID": "",
        "VITE_AUTH0_AUDIENCE": "REPLACE_WITH_YOUR_API_IDENTIFIER",
    }

    with pytest.raises(SpaBuildFailed) as refused:
        build_spa(tmp_path / "dist", settings)

    said = str(refused.value)
    assert (
        "spa build refused: VITE_AUTH0_DOMAIN is still the example value your-tenant.us.auth0.com from "
        ".env.tenant.example; VITE_AUTH0_CLIENT_ID is not set; VITE_AUTH0_AUDIENCE is a placeholder "
        "(REPLACE_WITH_YOUR_API_IDENTIFIER). Set the real values in .env.production.local"
    ) in said
    assert "VITE_API_BASE_URL" not in said
    assert "VITE_PURCHASE_URL" not in said
    assert not (tmp_path / "dist" / "index.html").exists()


def test_a_build_with_real_settings_is_made(node: str, tmp_path: Path) -> None:
    build_spa(tmp_path / "dist", REAL)

    assert (tmp_path / "dist" / "index.html").is_file()


def test_the_build_and_ops_spa_publish_judge_every_setting_by_the_same_rule(node: str) -> None:
    script = """
        import { readFileSync } from "node:fs";
        import { parseEnvFile, settingProblems } from "./src/settings.js";
        const examples = parseEnvFile(readFileSync(".env.tenant.example", "utf8"));
        const cases = JSON.parse(process.argv[1]);
        const judged = Object.fromEntries(
          Object.entries(cases).map(([name, env]) => [name, settingProblems(env, examples).map((p) => p.name)]),
        );
        console.log(JSON.stringify(judged));
    """
    cases = {name: {**REAL, **change} for name, change in CASES.items()}
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, json.dumps(cases)],
        cwd=SPA_DIR,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    by_the_build = json.loads(done.stdout)

    for name, values in cases.items():
        by_ops = [] if refused_by_ops(values) is None else sorted(CASES[name])
        assert sorted(by_the_build[name]) == by_ops, name
    assert {name for name, refused in by_the_build.items() if not refused} == {"real", "real-custom-domain"}


def refused_by_ops(values: dict[str, str]) -> str | None:
    try:
        refuse_unusable([SpaSetting(name, value, "the test") for name, value in values.items()])
    except ServiceError as error:
        return str(error)
    return None


def test_the_dev_server_without_its_settings_names_the_missing_ones(
    node: str, page: Page, request: pytest.FixtureRequest
) -> None:
    # `make run` serves with spa/.env.development; the environment empties two of them and leaves a placeholder.
    unset = {"VITE_AUTH0_CLIENT_ID": "", "VITE_API_BASE_URL": " ", "VITE_PURCHASE_URL": "REPLACE_WITH_YOUR_PAGE"}
    with dev_server(unset) as url:
        page.goto(url)

        problem = page.get_by_role("alert")
        expect(problem.get_by_role("heading", name="This app is not configured")).to_be_visible()
        expect(problem.get_by_role("listitem")).to_have_text(
            ["VITE_AUTH0_CLIENT_ID", "VITE_API_BASE_URL", "VITE_PURCHASE_URL"]
        )
        Screenshots.for_test(request.node.name).take(page, "not-configured")
