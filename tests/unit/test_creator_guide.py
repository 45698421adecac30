"""The creator's guide reads as numbered steps, and the outputs it shows from offline sources are what the commands
print today: ``gumroad whoami``/``products`` and ``subscribe add`` against the recorded Gumroad answers, ``make
package``'s refusal against the shipped catalogue, ``create-secret``'s answer from moto. README.md is its front door.
(The outputs captured against the sandbox and the local S3 endpoint: tests/integration/test_creator_guide.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import responses
from moto import mock_aws

from chalicelib import wiring
from ops.__main__ import main as ops
from ops.packaging import main as packaging
from ops.subscribe import DEFAULT_RESOURCES
from tests.documentation import ROOT, documentation_pages
from tests.unit.ops.test_gumroad import PRODUCTS, USER, add_product_pages, user_body
from tests.unit.ops.test_subscribe import SUBSCRIPTIONS, URL, echo_created, fixture, listing
from tests.unit.ops.test_subscribe import gumroad as gumroad  # the fixture: recorded answers, the purchase settings
from tests.unit.test_packaging import shipped_project

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


def test_make_package_refuses_the_shipped_catalogue_as_the_guide_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The catalogue as the repository ships it (a copy: a creator who filled in theirs still passes this test).
    project = shipped_project(tmp_path)

    assert packaging(["check", "--stage", "prod", "--project", str(project)]) == 2

    assert capsys.readouterr().err.splitlines() == shown_output("package prod: refused")


def test_subscribe_add_prints_what_the_guide_shows_one_line_per_resource(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    for resource in DEFAULT_RESOURCES:
        listing(gumroad, resource)
    recorded_id = fixture("resource_subscription_created.json")["resource_subscription"]["id"]

    def created(request: Any) -> tuple[int, dict[str, str], str]:  # Gumroad's answer echoes what it registered
        status, headers, body = echo_created(request)
        answer = json.loads(body)
        answer["resource_subscription"]["id"] = recorded_id
        return status, headers, json.dumps(answer)

    gumroad.add_callback(responses.PUT, SUBSCRIPTIONS, callback=created)

    assert ops(["subscribe", "add", "--url", URL, "--apply"]) == 0

    shown = shown_output("RESOURCE ")
    printed = capsys.readouterr().out.splitlines()
    assert printed[: len(shown)] == shown
    assert len(printed) == 1 + len(DEFAULT_RESOURCES)


def test_create_secret_answers_with_the_keys_the_guide_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    shown = json.loads("\n".join(shown_output("{\n")))
    with mock_aws():
        answer = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
            Name="gumroad-auth0-gate/prod", SecretString="{}"
        )

    assert answer.keys() - {"ResponseMetadata"} == shown.keys()  # what the AWS CLI prints of it
    assert answer["Name"] == shown["Name"]
    assert re.fullmatch(r"arn:aws:secretsmanager:eu-west-1:\d{12}:secret:gumroad-auth0-gate/prod-\w{6}", shown["ARN"])
    assert re.fullmatch(r"arn:aws:secretsmanager:eu-west-1:\d{12}:secret:gumroad-auth0-gate/prod-\w{6}", answer["ARN"])


def test_the_readme_is_a_front_door_under_300_lines_that_maps_every_page_and_each_step() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert len(readme.splitlines()) < 300
    for page in documentation_pages()[1:]:
        assert f"](docs/{page.name})" in readme, f"README.md's documentation map lacks docs/{page.name}"
    steps = re.findall(r"^## (\d+)\. ", GUIDE.read_text(encoding="utf-8"), re.MULTILINE)
    linked = {int(number) for number in re.findall(r"\(docs/creator-guide\.md#(\d+)-", readme)}
    assert linked <= {int(number) for number in steps}
    assert {1, 5, 7, 14} <= linked, "install, the tenant, the stack and the first sale are one click away"
