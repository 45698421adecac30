"""The example SPA's build for `ops spa publish`: its settings checked, its npm packages when the lock changed,
`vite build`.

The settings are judged by the rule the build itself applies (spa/src/settings.js, in spa/vite.config.js): unset,
a placeholder, or still the value spa/.env.tenant.example ships with. Checked here first, each is named with where
its value comes from (a stack parameter, an option), which the build cannot know.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chalicelib.config.environment import require_https_url
from ops.errors import NotConfigured, SpaBuildFailed
from ops.placeholders import is_placeholder

ROOT = Path(__file__).resolve().parent.parent
SPA = ROOT / "spa"
EXAMPLES = SPA / ".env.tenant.example"
VITE = SPA / "node_modules" / ".bin" / "vite"
INSTALL_TIMEOUT_SECONDS = 600
BUILD_TIMEOUT_SECONDS = 300
_ENV_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class SpaSetting:
    """One VITE_* setting the SPA is built with, and where its value comes from (for the operator to fix it)."""

    variable: str
    value: str | None
    source: str


def refuse_unusable(settings: list[SpaSetting]) -> dict[str, str]:
    """The settings as Vite's environment; every one unset, a placeholder or an example value named in one line."""
    examples = example_values()
    problems = []
    for setting in settings:
        value = (setting.value or "").strip()
        if not value:
            problems.append(f"{setting.variable} is not set ({setting.source})")
        elif is_placeholder(value):
            problems.append(f"{setting.variable} is a placeholder, {value} ({setting.source})")
        elif _comparable(value) == _comparable(examples.get(setting.variable, "")):
            problems.append(f"{setting.variable} is still the example value {value} ({setting.source})")
    if problems:
        raise NotConfigured("cannot build the SPA: " + "; ".join(problems))
    for setting in settings:
        if setting.variable.endswith("_URL"):
            require_https_url(str(setting.value), setting.variable)
    return {setting.variable: str(setting.value).strip() for setting in settings}


def example_values() -> dict[str, str]:
    """spa/.env.tenant.example's NAME=value lines: what a real build must have replaced."""
    values = {}
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        match = _ENV_LINE.match(line)
        if match and not line.lstrip().startswith("#"):
            values[match.group(1)] = match.group(2)
    return values


def _comparable(value: str) -> str:
    # The tenant is the same tenant with or without https:// (the SDK adds it), and a trailing slash changes nothing.
    return value.strip().lower().removeprefix("https://").rstrip("/")


def install_packages(environment: Mapping[str, str], *, spa: Path = SPA) -> bool:
    """`npm ci` in ``spa`` unless the packages of its lock file are there (the Makefile's stamp); True if it ran."""
    lock = (spa / "package-lock.json").read_bytes()
    stamp = spa / "node_modules" / f".installed-{hashlib.sha256(lock).hexdigest()[:12]}"
    if stamp.exists() and (spa / "node_modules" / ".bin" / "vite").exists():
        return False
    npm = shutil.which("npm", path=environment.get("PATH"))
    if npm is None:
        raise NotConfigured("npm is missing: install Node.js 20 or later with npm (Debian: apt-get install nodejs npm)")
    _run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], spa, environment, INSTALL_TIMEOUT_SECONDS, "npm ci"
    )
    for old in stamp.parent.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return True


def build(out_dir: Path, environment: Mapping[str, str]) -> None:
    """`vite build` into ``out_dir``; the VITE_* settings in ``environment`` win over spa/.env* files."""
    command = [str(VITE), "build", "--outDir", str(out_dir), "--emptyOutDir", "--logLevel", "warn"]
    _run(command, SPA, environment, BUILD_TIMEOUT_SECONDS, "vite build")


def _run(command: list[str], folder: Path, environment: Mapping[str, str], timeout: float, what: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
            command, cwd=folder, env=dict(environment), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise SpaBuildFailed(f"{what} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        said = [line.strip().strip("[]") for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        raise SpaBuildFailed(f"{what} exited {done.returncode}: {said[-1] if said else 'no output'}")
