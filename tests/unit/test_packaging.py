"""`make package`'s checks: placeholders never ship to a deployed stage; the runtime's end is announced."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest

from ops.packaging import RUNTIME_ENDS, main, months_before, package_problems, runtime_notice, template_runtimes

ROOT = Path(__file__).resolve().parents[2]
TEST_CATALOGUE = ROOT / "tests" / "fixtures" / "deploy" / "courses.json"
# The catalogue as the repository ships it, kept here so that filling in chalicelib/courses.json changes no test.
PLACEHOLDER_CATALOGUE = ROOT / "tests" / "fixtures" / "deploy" / "courses.placeholder.json"


def project_copy(tmp_path: Path) -> Path:
    """The Chalice project's configuration and catalogues, as `make package-check` copies them."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments"))
    (project / "chalicelib").mkdir()
    for name in ("courses.json", "courses.local.json"):
        shutil.copy(ROOT / "chalicelib" / name, project / "chalicelib" / name)
    return project


def shipped_project(tmp_path: Path) -> Path:
    """A copy of the project holding the catalogue as the repository ships it (placeholders), whatever a creator
    has filled in since."""
    project = project_copy(tmp_path)
    shutil.copy(PLACEHOLDER_CATALOGUE, project / "chalicelib" / "courses.json")
    return project


def test_the_placeholder_catalogue_is_refused_for_prod_naming_each_placeholder(tmp_path: Path) -> None:
    project = shipped_project(tmp_path)

    problems = package_problems(project, "prod")

    assert any("role_id is a placeholder (rol_REPLACE_WITH_THE_AUTH0_ROLE_ID)" in line for line in problems)
    product = "gumroad_products has a placeholder (REPLACE_WITH_THE_GUMROAD_PRODUCT_ID==)"
    assert any(product in line for line in problems)


def test_packaging_prod_with_placeholders_exits_2_and_says_what_to_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = shipped_project(tmp_path)

    assert main(["check", "--stage", "prod", "--project", str(project)]) == 2

    captured = capsys.readouterr()
    assert "ok" not in captured.out
    assert "chalicelib/courses.json: course 'serverless-handbook' role_id is a placeholder" in captured.err


def test_the_local_stage_packages_with_the_sandbox_catalogue() -> None:
    assert package_problems(ROOT, "local") == []


def test_a_filled_in_catalogue_packages_prod(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = project_copy(tmp_path)
    shutil.copy(TEST_CATALOGUE, project / "chalicelib" / "courses.json")

    assert main(["check", "--stage", "prod", "--project", str(project)]) == 0
    assert "catalogue and settings for prod: ok" in capsys.readouterr().out


def test_a_placeholder_in_any_stage_setting_is_named_with_where_it_is(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    shutil.copy(TEST_CATALOGUE, project / "chalicelib" / "courses.json")
    config = json.loads((project / ".chalice" / "config.json").read_text())
    config["stages"]["dev"]["environment_variables"]["AUTH0_ONBOARDING_CLIENT_ID"] = "REPLACE_ME"
    worker = config["stages"]["dev"]["lambda_functions"]["process_ping"]["environment_variables"]
    worker["AUTH0_DOMAIN"] = "<your tenant>"
    (project / ".chalice" / "config.json").write_text(json.dumps(config))

    problems = package_problems(project, "dev")

    assert problems == [
        ".chalice/config.json stages.dev.environment_variables: AUTH0_ONBOARDING_CLIENT_ID is a placeholder "
        "(REPLACE_ME)",
        ".chalice/config.json stages.dev.lambda_functions.process_ping: AUTH0_DOMAIN is a placeholder (<your tenant>)",
    ]


def test_an_unknown_stage_is_refused(tmp_path: Path) -> None:
    assert package_problems(project_copy(tmp_path), "staging") == [".chalice/config.json has no stage 'staging'"]


@pytest.mark.parametrize(
    ("today", "warning", "says"),
    [
        (
            date(2026, 11, 29),
            False,
            "06-30 (213 days from now), blocks creating functions on 2027-07-31; make package warns from 2026-12-30",
        ),
        (date(2026, 12, 29), False, "on 2027-06-30 (183 days from now), blocks"),
        (
            date(2026, 12, 30),
            True,
            "on 2027-06-30 (182 days from now), blocks creating functions on 2027-07-31; plan the upgrade",
        ),
        (date(2027, 6, 29), True, "on 2027-06-30 (1 days from now), blocks"),
        (date(2027, 6, 30), True, "it gets no security patches any more"),
        (date(2027, 7, 31), True, "a new stack can no longer be created on it"),
    ],
)
def test_python311_warns_from_six_months_before_its_deprecation(today: date, warning: bool, says: str) -> None:
    is_warning, text = runtime_notice("python3.11", today)

    assert is_warning is warning
    assert says in text
    assert "2027-06-30" in text
    assert "2027-07-31" in text


def test_a_runtime_without_known_dates_is_a_warning() -> None:
    is_warning, text = runtime_notice("python3.99", date(2026, 11, 29))

    assert is_warning
    assert "no end-of-support date known" in text


def test_six_months_before_the_end_of_a_month_is_the_end_of_the_shorter_month() -> None:
    assert months_before(date(2027, 8, 31), 6) == date(2027, 2, 28)
    assert months_before(date(2028, 8, 31), 6) == date(2028, 2, 29)
    assert months_before(date(2027, 1, 15), 6) == date(2026, 7, 15)


def test_the_runtime_chalice_picks_for_this_interpreter_has_known_dates() -> None:
    # Chalice packages for the local interpreter's version: moving to a newer Python needs its row here.
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" in RUNTIME_ENDS


def test_the_runtimes_are_read_from_every_function_of_the_packaged_template() -> None:
    template = {
        "Resources": {
            "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}},
            "ProcessPing": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}},
            "PingQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }

    assert template_runtimes(template) == ["python3.11"]


def test_the_runtime_command_prints_a_warning_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "sam.json"
    template.write_text(json.dumps({"Resources": {"F": {"Properties": {"Runtime": "python3.11"}}}}))

    assert main(["runtime", str(template), "--today", "2027-01-05"]) == 0

    assert capsys.readouterr().err.startswith("warning: AWS deprecates python3.11 on 2027-06-30")
