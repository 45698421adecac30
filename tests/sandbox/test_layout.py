"""The sandbox's layout, read from its own files: Auth0's surfaces as packages, imports that point down,
nothing beyond the standard library, PyJWT and cryptography, small modules, and HTML only in templates."""

from __future__ import annotations

import ast
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox"
DEVSTACK = ROOT / "devstack"
MAX_LINES = 400
MAX_TOP_LEVEL_MODULES = 8
ALLOWED_LIBRARIES = {"jwt", "cryptography"}
# Lower layers first: a module imports its own package and the layers below it, never a layer above or beside.
LAYERS = (
    ("sandbox", "sandbox.errors", "sandbox.defaults"),
    ("sandbox.tenant",),
    ("sandbox.http",),
    ("sandbox.actions",),  # the post-login trigger every way of signing in ends with
    ("sandbox.oidc", "sandbox.authentication", "sandbox.management"),  # the surfaces: none imports another
    ("sandbox.devtools", "sandbox.surfaces"),
    ("sandbox.server",),
    ("sandbox.__main__",),
)
# Elements a page is made of; "<a new password>" in a JSON hint or "(?P<name>" in a regex are not markup.
ELEMENT_NAMES = "html head body main title style script meta link h1 h2 h3 p a form input label button div span img br"
ELEMENTS = frozenset(ELEMENT_NAMES.split())


def python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Markup(HTMLParser):
    """Finds a doctype, a closing tag, or an opening tag with an attribute value, of a real element."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def handle_decl(self, decl: str) -> None:
        self.found = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found |= tag in ELEMENTS and any(value is not None for _, value in attrs)

    def handle_endtag(self, tag: str) -> None:
        self.found |= tag in ELEMENTS


def is_markup(text: str) -> bool:
    parser = _Markup()
    parser.feed(text)
    parser.close()
    return parser.found


def imports(path: Path) -> dict[str, int]:
    """Every module a file imports (relative imports resolved, at any depth), with the line it first appears on."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            names = [".".join([*base, *([node.module] if node.module else [])])]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            found[name] = min(found.get(name, node.lineno), node.lineno)
    return found


def unit_of(module: str) -> tuple[int, str]:
    """The layer a sandbox module belongs to, and its unit in that layer (its package, or itself)."""
    for rank, units in enumerate(LAYERS):
        for unit in units:
            if module == unit or (unit != "sandbox" and module.startswith(f"{unit}.")):
                return rank, unit
    raise LookupError(f"{module} belongs to no layer: add it to LAYERS")


def upward_imports(path: Path) -> list[str]:
    rank, unit = unit_of(module_name(path))
    found = []
    for imported, line in sorted(imports(path).items()):
        if imported != "sandbox" and not imported.startswith("sandbox."):
            continue
        other_rank, other_unit = unit_of(imported)
        if other_unit != unit and other_rank >= rank:
            found.append(f"line {line}: {imported}")
    return found


def test_the_sandbox_is_packages_by_auth0_surface_with_few_modules_on_top() -> None:
    packages = sorted(path.parent.name for path in SANDBOX.glob("*/__init__.py"))
    top_level = sorted(path.name for path in SANDBOX.glob("*.py"))

    assert {"tenant", "http", "oidc", "authentication", "management"} <= set(packages)
    assert len(top_level) <= MAX_TOP_LEVEL_MODULES, top_level


@pytest.mark.parametrize("path", python_files(SANDBOX), ids=module_name)
def test_a_sandbox_module_imports_only_its_own_package_and_the_layers_below(path: Path) -> None:
    assert upward_imports(path) == []


def test_the_layer_rule_sees_the_imports_it_is_about() -> None:
    # Guards the test itself: if the walk found nothing, every rule above would pass vacuously.
    assert "sandbox.oidc.login" in imports(SANDBOX / "surfaces.py")
    assert "sandbox.surfaces" in imports(SANDBOX / "server.py")
    assert "sandbox.tenant.site" in imports(SANDBOX / "oidc" / "forms.py")
    assert unit_of("sandbox.oidc.login") == (4, "sandbox.oidc")
    assert unit_of("sandbox.management.users")[0] == unit_of("sandbox.authentication.token")[0]
    with pytest.raises(LookupError):
        unit_of("sandbox.somewhere_new")


@pytest.mark.parametrize("path", python_files(SANDBOX), ids=module_name)
def test_the_sandbox_needs_nothing_beyond_the_standard_library_pyjwt_and_cryptography(path: Path) -> None:
    roots = {module.split(".")[0] for module in imports(path)}
    foreign = roots - set(sys.stdlib_module_names) - ALLOWED_LIBRARIES - {"sandbox"}

    assert foreign == set()


def test_the_auth0_stand_in_never_reaches_for_the_stack_the_service_or_the_tests() -> None:
    reached = {
        module_name(path): sorted(
            module
            for module in imports(path)
            if module.split(".")[0] in {"devstack", "chalicelib", "app", "ops", "tests"}
        )
        for path in python_files(SANDBOX)
    }

    assert {module: found for module, found in reached.items() if found} == {}
    assert "sandbox.defaults" in imports(DEVSTACK / "stack.py")  # the stack sits above the sandbox


@pytest.mark.parametrize("path", python_files(SANDBOX) + python_files(DEVSTACK), ids=module_name)
def test_no_module_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_html_lives_in_templates_not_in_python_strings() -> None:
    found = []
    for path in python_files(SANDBOX):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        found += [
            f"{module_name(path)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and is_markup(node.value)
        ]

    assert found == []
    assert is_markup('<p class=error role=alert id="error-message">')  # the parser sees markup
    assert is_markup("<h1>Signed out</h1>")
    assert not is_markup("<a new password, at least 8 characters>")
    assert list((SANDBOX / "oidc" / "templates").glob("*.html"))
