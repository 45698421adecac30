"""Importing app.py reads no settings, touches no network and loads no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("network touched while importing app.py")
socket.socket.connect = refuse
socket.create_connection = refuse
import app
heavy = ("auth0", "boto3", "botocore", "httpx")
print(json.dumps({"routes": sorted(app.app.routes), "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def test_importing_app_needs_no_environment_no_network_and_no_auth0_or_boto3() -> None:
    clean_env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AUTH0_", "GUMROAD_", "COURSES_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "/gumroad/ping" in report["routes"]
    assert report["loaded"] == []


def test_the_shipped_catalogues_are_valid() -> None:
    for name in ("courses.local.json", "courses.json"):
        catalogue = load_catalogue(ROOT / "chalicelib" / name)
        assert catalogue.courses, name


def test_the_local_stage_points_at_a_loopback_sandbox_and_a_valid_catalogue() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    local = config["stages"]["local"]["environment_variables"]
    assert local["AUTH0_DOMAIN"].startswith("http://127.0.0.1:")
    assert load_catalogue(ROOT / local["COURSES_FILE"]).by_slug("serverless-handbook") is not None


def test_the_local_stage_and_the_sandboxs_action_share_the_post_login_secret_and_route() -> None:
    from sandbox.defaults import LOCAL_POST_LOGIN_SECRET, LOCAL_POST_LOGIN_URL

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    local = config["stages"]["local"]["environment_variables"]
    assert local["POST_LOGIN_SECRET"] == LOCAL_POST_LOGIN_SECRET
    assert LOCAL_POST_LOGIN_URL == "http://127.0.0.1:8000/auth0/post-login"  # make run's service port and route
    assert not any(
        "POST_LOGIN" in name
        for stage in ("dev", "prod")
        for name in config["stages"][stage].get("environment_variables", {})
    )
