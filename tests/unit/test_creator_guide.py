"""The creator's guide reads as numbered steps, and the outputs it shows from offline sources are what the commands
print today: ``gumroad whoami``/``products`` against the recorded Gumroad answers, ``make package``'s refusal
against the shipped catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import responses

from chalicelib import wiring
from ops.__main__ import main as ops
from ops.packaging import main as packaging
from tests.documentation import ROOT
from tests.unit.ops.test_gumroad import PRODUCTS, USER, add_product_pages, user_body

GUIDE = ROOT / "docs" / "creator-guide.md"
_TEXT_BLOCK = re.compile(r"^```text\n(?P<text>.*?)^```$", re.MULTILINE | re.DOTALL)


def shown_output(starting_with: str) -> list[str]:
    """The lines of the guide's output block that starts with ``starting_with``, up to an elision (``...``)."""
    [block] = [
        match["text"] for match in _TEXT_BLOCK.finditer(GUIDE.read_text()) if match["text"].startswith(starting_with)
    ]
    lines = block.splitlines()
    return lines[: lines.index("...")] if "..." in lines else lines


@pytest.fixture
def recorded_gumroad(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    """A creator's shell on day one: a Gumroad token, the shipped catalogue, nothing deployed."""
    for name in ("COURSES_FILE", "GUMROAD_SELLER_ID", "AUTH0_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", "gumroad-oauth-token-for-the-guide")
    wiring.clear_caches()
    with responses.RequestsMock() as mock:
        yield mock
    wiring.clear_caches()


def test_the_steps_are_numbered_one_after_another() -> None:
    numbers = [int(number) for number in re.findall(r"^## (\d+)\. ", GUIDE.read_text(), re.MULTILINE)]

    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) >= 10


def test_whoami_prints_what_the_guide_shows(
    recorded_gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded_gumroad.add(responses.GET, USER, json=user_body())

    assert ops(["gumroad", "whoami"]) == 0

    assert capsys.readouterr().out.splitlines() == shown_output("Gumroad account:")


def test_products_prints_what_the_guide_shows_up_to_its_elision(
    recorded_gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    add_product_pages(recorded_gumroad)

    assert ops(["gumroad", "products"]) == 0

    shown = shown_output("3 Gumroad product(s)")
    printed = capsys.readouterr().out.splitlines()
    assert printed[: len(shown) - 1] == shown[:-1]
    assert printed[len(shown) - 1].startswith(shown[-1].removesuffix(" ...},"))
    assert str(recorded_gumroad.calls[0].request.url).startswith(PRODUCTS)


def test_make_package_refuses_the_shipped_catalogue_as_the_guide_shows(capsys: pytest.CaptureFixture[str]) -> None:
    assert packaging(["check", "--stage", "prod", "--project", str(ROOT)]) == 2

    assert capsys.readouterr().err.splitlines() == shown_output("package prod: refused")
