"""The layout's rules, read from the code's own imports.

Imports point down: app.py and the HTTP edge (``web/``) on top, the composition root (``wiring``) below
them, the use cases (``purchases/``, ``access/``) below it, and the adapters (``auth0_api/``, ``aws/``,
``gumroad_api/``) beside the use cases, implementing their ports; the shared plumbing (settings, errors,
logs, deadlines...) sits below all of them. Each library belongs to one layer (Chalice to the edge, requests
to the HTTP adapters...). Every exception that leaves its module is in errors.py, no module passes 400
lines, and a private request never loads the Auth0 adapter, AWS, the Gumroad adapter or the purchase path.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import chalicelib
from tests.tokens import AUDIENCE, ISSUER, claims, loopback_jwks, rsa_key, sign

ROOT = Path(__file__).resolve().parents[2]
SERVICE = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
MAX_MODULE_LINES = 400

# library -> the only places (files or folders, relative to the repository) that may import it
LIBRARY_RULES: dict[str, tuple[str, ...]] = {
    "chalice": ("app.py", "chalicelib/web/"),
    "auth0": ("chalicelib/auth0_api/",),
    "httpx": ("chalicelib/auth0_api/",),
    # auth0-python's Authentication API speaks requests; the Gumroad client too. Nothing else does HTTP with it.
    "requests": ("chalicelib/auth0_api/", "chalicelib/gumroad_api/"),
    "jwt": ("chalicelib/access/",),
    "boto3": ("chalicelib/aws/",),
    "botocore": ("chalicelib/aws/",),
    "mypy_boto3_secretsmanager": ("chalicelib/aws/",),
    "mypy_boto3_sqs": ("chalicelib/aws/",),
    "mypy_boto3_ssm": ("chalicelib/aws/",),
    # The local stack's stand-ins are configured from outside (endpoint URL, keys): the service never knows.
    "devstack": (),
}

# Below everything: what any layer may use, and which itself imports nothing but its kind.
PLUMBING = (
    "chalicelib.config",
    "chalicelib.errors",
    "chalicelib.logs",
    "chalicelib.deadlines",
    "chalicelib.strict_json",
    "chalicelib.media_types",
    "chalicelib.catalogue",
    "chalicelib.credentials",
    "chalicelib.metrics",
)
USE_CASES = ("chalicelib.purchases", "chalicelib.access")
ADAPTERS = ("chalicelib.auth0_api", "chalicelib.aws", "chalicelib.gumroad_api")

# place (a file, or a folder ending in "/") -> the chalicelib modules it may import (a name and what is below it)
LAYER_RULES: dict[str, tuple[str, ...]] = {
    "chalicelib/__init__.py": (),
    "app.py": ("chalicelib.web", "chalicelib.wiring", *USE_CASES, *PLUMBING),
    "chalicelib/web/": ("chalicelib.web", "chalicelib.wiring", *USE_CASES, *PLUMBING),
    "chalicelib/wiring.py": (*USE_CASES, *ADAPTERS, *PLUMBING),
    "chalicelib/purchases/": ("chalicelib.purchases", *PLUMBING),
    "chalicelib/access/": ("chalicelib.access", *PLUMBING),
    # An adapter implements the use cases' ports and carries their data; it never calls another adapter.
    "chalicelib/auth0_api/": (
        "chalicelib.auth0_api",
        "chalicelib.purchases",
        "chalicelib.access.password_grant",
        *PLUMBING,
    ),
    "chalicelib/aws/": ("chalicelib.aws", "chalicelib.purchases", *PLUMBING),
    "chalicelib/gumroad_api/": ("chalicelib.gumroad_api", "chalicelib.purchases", *PLUMBING),
    **{module.replace(".", "/") + ("/" if module == "chalicelib.config" else ".py"): PLUMBING for module in PLUMBING},
}


def imported_modules(source: str) -> set[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING blocks too).

    ``from chalicelib import wiring`` counts as ``chalicelib.wiring``: from a package, a name may be a module.
    """
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            if (ROOT / node.module.replace(".", "/") / "__init__.py").is_file():
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def under(module: str, names: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in names)


def layer_of(place: str) -> str | None:
    """The LAYER_RULES key that governs ``place`` (the longest that contains it)."""
    keys = [key for key in LAYER_RULES if place == key or (key.endswith("/") and place.startswith(key))]
    return max(keys, key=len) if keys else None


def library_violations(place: str, source: str, library: str) -> list[str]:
    allowed = LIBRARY_RULES[library]
    if any(under(module, (library,)) for module in imported_modules(source)) and not place.startswith(allowed):
        return [f"{place} imports {library}, which is for {', '.join(allowed)} only"]
    return []


def layer_violations(place: str, source: str) -> list[str]:
    modules = sorted(m for m in imported_modules(source) if under(m, ("chalicelib",)) and m != "chalicelib")
    layer = layer_of(place)
    if layer is None:
        return [f"{place} has no rule in LAYER_RULES"] if modules else []
    allowed = LAYER_RULES[layer]
    return [
        f"{place} imports {module}: {layer} may import only {', '.join(allowed)}"
        for module in modules
        if not under(module, allowed)
    ]


def violations(place: str, source: str) -> list[str]:
    """What in ``source`` (the text of ``place``, a path relative to the repository) breaks a rule."""
    return [
        *layer_violations(place, source),
        *(v for library in LIBRARY_RULES for v in library_violations(place, source, library)),
    ]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("library", sorted(LIBRARY_RULES))
def test_each_library_is_imported_only_where_its_layer_lives(library: str) -> None:
    offenders = [
        problem
        for path in SERVICE
        for problem in library_violations(relative(path), path.read_text(encoding="utf-8"), library)
    ]

    assert offenders == []


@pytest.mark.parametrize("layer", sorted(LAYER_RULES))
def test_each_place_imports_only_what_lies_below_it(layer: str) -> None:
    offenders = [
        problem
        for path in SERVICE
        if layer_of(relative(path)) == layer
        for problem in layer_violations(relative(path), path.read_text(encoding="utf-8"))
    ]

    assert offenders == []


def test_every_module_of_the_service_has_a_layer() -> None:
    assert [relative(path) for path in SERVICE if layer_of(relative(path)) is None] == []


@pytest.mark.parametrize(
    ("place", "source"),
    [
        ("chalicelib/purchases/fulfilment.py", "from chalicelib.auth0_api.pacing import RetryPolicy"),
        ("chalicelib/purchases/worker.py", "def f():\n    from chalicelib.auth0_api import directory"),
        ("chalicelib/auth0_api/password_login.py", "from chalicelib.web.login import answer_login"),
        ("chalicelib/auth0_api/directory.py", "from chalicelib import wiring"),
        ("chalicelib/purchases/reconcile.py", "import requests"),
        ("chalicelib/access/jwks.py", "from requests.exceptions import Timeout"),
        ("chalicelib/web/pings.py", "from chalicelib.aws.sqs import PingQueue"),
        ("chalicelib/aws/sqs.py", "from chalicelib.auth0_api.pacing import RetryPolicy"),
        ("chalicelib/errors.py", "from chalicelib.purchases.events import SaleEvent"),
        ("chalicelib/config/purchase_settings.py", "from chalicelib.access.verifier import VerifiedToken"),
        ("chalicelib/wiring.py", "from chalicelib.web import answers"),
        ("chalicelib/new_package/thing.py", "from chalicelib.errors import ServiceError"),
    ],
    ids=[
        "purchases->auth0_api",
        "purchases->auth0_api-in-a-function",
        "auth0_api->web",
        "adapter->wiring",
        "requests-in-purchases",
        "requests-in-access",
        "web->adapter",
        "adapter->adapter",
        "plumbing->use-case",
        "settings->use-case",
        "wiring->web",
        "a-place-without-a-rule",
    ],
)
def test_an_import_against_the_rules_is_caught(place: str, source: str) -> None:
    # Guards the test itself: each of these, planted in the tree, must fail the test above.
    assert violations(place, source) != []


def test_the_rules_see_the_imports_they_are_about() -> None:
    # If the walk found nothing, every rule above would pass vacuously.
    def imports(path: str) -> set[str]:
        return imported_modules((ROOT / path).read_text(encoding="utf-8"))

    assert "chalice.app" in imports("chalicelib/web/answers.py")
    assert "httpx" in imports("chalicelib/auth0_api/directory.py")
    assert "requests" in imports("chalicelib/gumroad_api/client.py")
    assert any(module.startswith("mypy_boto3") for module in imports("chalicelib/aws/sqs.py"))
    assert "chalicelib.purchases.ports" in imports("chalicelib/auth0_api/directory.py")
    assert "chalicelib.wiring" in imports("chalicelib/web/private_routes.py")


def test_the_service_imports_absolutely() -> None:
    # A relative import would slip past the rules, which read module names.
    relative_imports = [
        relative(path)
        for path in SERVICE
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]

    assert relative_imports == []


def test_every_exception_that_leaves_its_module_is_defined_in_errors_py() -> None:
    elsewhere = []
    for module_info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and module.__name__ != "chalicelib.errors"
                and not name.startswith("_")
            ):
                elsewhere.append(f"{module.__name__}.{name}")

    assert elsewhere == []


def test_no_module_of_the_service_is_over_400_lines() -> None:
    long = {
        relative(path): lines for path in SERVICE if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }

    assert long == {}


_PRIVATE_REQUEST = """
import json, os, sys
import app
path, resource = os.environ["PROBE_PATH"], os.environ["PROBE_RESOURCE"]
headers = {"Authorization": "Bearer " + os.environ["PROBE_TOKEN"]}
event = {
    "resource": resource, "path": path, "httpMethod": "GET", "headers": headers,
    "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
    "multiValueQueryStringParameters": None, "pathParameters": json.loads(os.environ["PROBE_PARAMETERS"]),
    "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"httpMethod": "GET", "resourcePath": resource, "path": path},
}
answer = app.app(event, None)
# The adapters and the purchase path, with their settings and libraries; and pathlib, which nothing on this
# path needs and a cold start would pay for (README, "Cold start").
watched = ("chalicelib.auth0_api", "chalicelib.aws", "chalicelib.purchases", "chalicelib.gumroad_api",
           "chalicelib.credentials", "chalicelib.metrics", "chalicelib.deadlines",
           "chalicelib.config.purchase_settings", "chalicelib.config.login_settings",
           "chalicelib.config.reconcile_settings", "chalicelib.config.content_settings",
           "auth0", "httpx", "boto3", "botocore", "requests", "pathlib")
loaded = sorted({m for m in sys.modules if m.split(".")[0] in watched or m.startswith(watched)})
print(json.dumps({"status": answer["statusCode"], "loaded": loaded}))
"""


def private_request(
    path: str, resource: str, parameters: dict[str, str] | None, permissions: list[str]
) -> dict[str, Any]:
    """One private GET in a fresh interpreter, as Lambda's first request: its status and what it loaded."""
    key = rsa_key("k1")
    with loopback_jwks(key) as server:
        environment = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("AUTH0_", "GUMROAD_", "COURSES_", "CORS_", "CONTENT_", "AWS_"))
            },
            "AUTH0_AUDIENCE": AUDIENCE,
            "AUTH0_ISSUER": ISSUER,
            "AUTH0_JWKS_URL": server.url,
            "COURSES_FILE": "tests/fixtures/courses.lessons.json",
            "CONTENT_BUCKET": "course-content",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "ASIATESTEXAMPLE00000",
            "AWS_SECRET_ACCESS_KEY": "test-secret-not-a-real-one",
            "PROBE_TOKEN": sign(key, claims(permissions=permissions)),
            "PROBE_PATH": path,
            "PROBE_RESOURCE": resource,
            "PROBE_PARAMETERS": json.dumps(parameters),
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
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


HANDBOOK = "read:course:serverless-handbook"


@pytest.mark.parametrize(
    ("path", "resource", "parameters", "permissions", "status"),
    [
        ("/courses", "/courses", None, [HANDBOOK], 200),
        ("/courses/pro-membership", "/courses/{slug}", {"slug": "pro-membership"}, ["read:course:pro-membership"], 200),
        ("/courses/serverless-handbook", "/courses/{slug}", {"slug": "serverless-handbook"}, [], 403),
    ],
    ids=["list", "a course without lessons", "a course refused"],
)
def test_a_private_request_loads_neither_the_adapters_nor_the_purchase_path_nor_its_settings(
    path: str, resource: str, parameters: dict[str, str] | None, permissions: list[str], status: int
) -> None:
    report = private_request(path, resource, parameters, permissions)

    assert report["status"] == status
    assert report["loaded"] == []


def test_a_course_with_lessons_loads_only_what_signs_their_urls() -> None:
    # The one private answer that needs an adapter: the S3 signer with boto3 and botocore (which loads pathlib),
    # and the lessons' settings. Nothing of the purchase path, Auth0 or the other adapters.
    report = private_request(
        "/courses/serverless-handbook", "/courses/{slug}", {"slug": "serverless-handbook"}, [HANDBOOK]
    )

    assert report["status"] == 200
    assert {module.split(".")[0] for module in report["loaded"]} == {"chalicelib", "boto3", "botocore", "pathlib"}
    assert [module for module in report["loaded"] if module.startswith("chalicelib")] == [
        "chalicelib.aws",
        "chalicelib.aws.presigned_urls",
        "chalicelib.config.content_settings",
    ]
