"""Fixtures every unit test can ask for by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.auth0_replay import auth0_replay

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def packaged_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The prod template `make package STAGE=prod` builds (and cfn-lint checks): out/prod/sam.json when it
    is newer than its sources, else packaged afresh."""
    built = ROOT / "out" / "prod" / "sam.json"
    sources = [ROOT / "app.py", ROOT / ".chalice" / "config.json", ROOT / ".chalice" / "deploy-resources.json"]
    if not built.exists() or built.stat().st_mtime < max(source.stat().st_mtime for source in sources):
        out = tmp_path_factory.mktemp("package") / "prod"
        subprocess.run(
            [
                str(Path(sys.executable).parent / "chalice"),
                "package",
                "--stage",
                "prod",
                "--merge-template",
                ".chalice/deploy-resources.json",
                str(out),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        )
        built = out / "sam.json"
    template: dict[str, Any] = json.loads(built.read_text())
    return template


__all__ = ["auth0_replay", "packaged_template"]
