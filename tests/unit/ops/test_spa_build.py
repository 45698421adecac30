"""The SPA's settings judged before `ops spa publish` builds anything; its npm packages installed only when needed."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from chalicelib.errors import ConfigurationError
from ops.errors import NotConfigured
from ops.settings import Settings
from ops.spa import spa_settings
from ops.spa_build import EXAMPLES, SPA, SpaSetting, example_values, install_packages, refuse_unusable

REAL = {
    "VITE_AUTH0_DOMAIN": "https://shop.eu.auth0.com",
    "VITE_AUTH0_CLIENT_ID": "Xq3VbN8sT0pL2mW5rY7uZ1aC4dE6fG9h",
    "VITE_AUTH0_AUDIENCE": "https://courses.shop.example/api",
    "VITE_API_BASE_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/api",
    "VITE_PURCHASE_URL": "https://shop.gumroad.com/l/handbook",
}


def settings_of(values: dict[str, str | None]) -> list[SpaSetting]:
    return [SpaSetting(name, value, f"where {name} comes from") for name, value in values.items()]


def test_real_values_become_the_builds_environment() -> None:
    assert refuse_unusable(settings_of({**REAL, "VITE_PURCHASE_URL": " https://shop.gumroad.com/l/handbook "})) == REAL


def test_every_unusable_setting_is_named_with_where_it_comes_from_in_one_line() -> None:
    values: dict[str, str | None] = {
        **REAL,
        "VITE_AUTH0_CLIENT_ID": None,
        "VITE_AUTH0_AUDIENCE": "REPLACE_WITH_YOUR_API_IDENTIFIER",
        "VITE_PURCHASE_URL": "https://yourname.gumroad.com/l/your-course",
    }

    with pytest.raises(NotConfigured) as refused:
        refuse_unusable(settings_of(values))

    assert str(refused.value) == (
        "cannot build the SPA: VITE_AUTH0_CLIENT_ID is not set (where VITE_AUTH0_CLIENT_ID comes from); "
        "VITE_AUTH0_AUDIENCE is a placeholder, REPLACE_WITH_YOUR_API_IDENTIFIER (where VITE_AUTH0_AUDIENCE comes "
        "from); VITE_PURCHASE_URL is still the example value https://yourname.gumroad.com/l/your-course (where "
        "VITE_PURCHASE_URL comes from)"
    )


@pytest.mark.parametrize(
    "domain", ["your-tenant.us.auth0.com", "https://your-tenant.us.auth0.com", "https://YOUR-TENANT.us.auth0.com/"]
)
def test_the_example_tenant_is_refused_with_or_without_its_scheme(domain: str) -> None:
    with pytest.raises(NotConfigured, match="VITE_AUTH0_DOMAIN is still the example value"):
        refuse_unusable(settings_of({**REAL, "VITE_AUTH0_DOMAIN": domain}))


@pytest.mark.parametrize("name", ["VITE_API_BASE_URL", "VITE_PURCHASE_URL"])
def test_an_address_must_be_https(name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{name} must be an https:// URL"):
        refuse_unusable(settings_of({**REAL, name: "ftp://files.shop.example/x"}))


def test_the_examples_are_the_five_settings_the_spa_reads_as_spa_src_settings_js_lists_them() -> None:
    listed = re.search(r"export const NAMES = \[(.*?)\];", (SPA / "src" / "settings.js").read_text(), re.S)
    assert listed is not None
    names = re.findall(r'"(VITE_[A-Z0-9_]+)"', listed.group(1))
    publish = Settings({"AUTH0_DOMAIN": "shop.eu.auth0.com"})

    assert sorted(example_values()) == sorted(names)
    assert [setting.variable for setting in spa_settings(publish, client_id=None, purchase_url=None)] == names
    assert EXAMPLES.name == ".env.tenant.example"


def test_the_packages_of_the_lock_file_are_not_installed_again(tmp_path: Path) -> None:
    lock = b'{"lockfileVersion": 3}'
    (tmp_path / "package-lock.json").write_bytes(lock)
    (tmp_path / "node_modules" / ".bin").mkdir(parents=True)
    (tmp_path / "node_modules" / ".bin" / "vite").touch()
    (tmp_path / "node_modules" / f".installed-{hashlib.sha256(lock).hexdigest()[:12]}").touch()

    # No PATH at all: had it tried to run npm, it would have said npm is missing.
    assert install_packages({"PATH": ""}, spa=tmp_path) is False


def test_a_changed_lock_file_without_npm_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_bytes(b'{"lockfileVersion": 3, "changed": true}')
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / ".installed-0123456789ab").touch()

    with pytest.raises(NotConfigured, match=r"npm is missing: install Node\.js 20 or later"):
        install_packages({"PATH": str(tmp_path)}, spa=tmp_path)
