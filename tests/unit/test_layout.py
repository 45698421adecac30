"""The layout's rules, read from the code's own imports.

Chalice belongs to app.py and the web layer, auth0-python and httpx to the Auth0 adapter, boto3 to the
AWS adapter; and a private request never loads the Auth0 adapter, AWS or the purchase path.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tokens import AUDIENCE, ISSUER, claims, loopback_jwks, rsa_key, sign

ROOT = Path(__file__).resolve().parents[2]
SERVICE = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]

# library -> the only places (files or folders, relative to the repository) that may import it
RULES: dict[str, tuple[str, ...]] = {
    "chalice": ("app.py", "chalicelib/web/"),
    "auth0": ("chalicelib/auth0_api/",),
    "httpx": ("chalicelib/auth0_api/",),
    "boto3": ("chalicelib/aws/",),
    "botocore": ("chalicelib/aws/",),
    "mypy_boto3_secretsmanager": ("chalicelib/aws/",),
    "mypy_boto3_sqs": ("chalicelib/aws/",),
    "mypy_boto3_ssm": ("chalicelib/aws/",),
    # The local stack's stand-ins are configured from outside (endpoint URL, keys): the service never knows.
    "devstack": (),
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING blocks too)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("library", sorted(RULES))
def test_each_library_is_imported_only_where_its_layer_lives(library: str) -> None:
    allowed = RULES[library]
    offenders = [
        relative(path)
        for path in SERVICE
        if any(module == library or module.startswith(f"{library}.") for module in imported_modules(path))
        and not relative(path).startswith(allowed)
    ]

    assert offenders == [], f"{library} is for {', '.join(allowed)} only"


def test_the_rules_see_the_imports_they_are_about() -> None:
    # Guards the test itself: if the walk found nothing, every rule above would pass vacuously.
    assert "chalice.app" in imported_modules(ROOT / "chalicelib" / "web" / "answers.py")
    assert "httpx" in imported_modules(ROOT / "chalicelib" / "auth0_api" / "directory.py")
    assert any(module.startswith("mypy_boto3") for module in imported_modules(ROOT / "chalicelib" / "aws" / "sqs.py"))


_PRIVATE_REQUEST = """
import json, os, sys
import app
headers = {"Authorization": "Bearer " + os.environ["PROBE_TOKEN"]}
event = {
    "resource": "/courses", "path": "/courses", "httpMethod": "GET", "headers": headers,
    "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
    "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None, "body": None,
    "isBase64Encoded": False, "requestContext": {"httpMethod": "GET", "resourcePath": "/courses", "path": "/courses"},
}
answer = app.app(event, None)
watched = ("chalicelib.auth0_api", "chalicelib.aws", "chalicelib.purchases", "auth0", "httpx", "boto3", "botocore",
           "requests")
loaded = sorted({m for m in sys.modules if m.split(".")[0] in watched or m.startswith(watched)})
print(json.dumps({"status": answer["statusCode"], "loaded": loaded}))
"""


def test_a_private_request_loads_neither_the_auth0_adapter_nor_aws_nor_the_purchase_path() -> None:
    key = rsa_key("k1")
    with loopback_jwks(key) as server:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "GUMROAD_", "COURSES_", "CORS_"))},
            "AUTH0_AUDIENCE": AUDIENCE,
            "AUTH0_ISSUER": ISSUER,
            "AUTH0_JWKS_URL": server.url,
            "COURSES_FILE": "tests/fixtures/courses.test.json",
            "PROBE_TOKEN": sign(key, claims()),
        }
        result = subprocess.run(
            [sys.executable, "-c", _PRIVATE_REQUEST],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == 200
    assert report["loaded"] == []
