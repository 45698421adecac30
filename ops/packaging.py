"""`make package`'s own checks: nothing that is a placeholder ships, and the Lambda runtime's end is in sight.

.venv/bin/python -m ops.packaging check --stage prod [--project DIR]   # exit 2 naming each placeholder
.venv/bin/python -m ops.packaging runtime out/prod/sam.json [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from chalicelib.catalogue import load_catalogue
from chalicelib.config.environment import DEFAULT_COURSES_FILE
from chalicelib.errors import ConfigurationError
from ops.placeholders import is_placeholder, placeholders_in

# Stages that never reach AWS: the sandbox's values are allowed to look like examples.
LOCAL_STAGES = frozenset({"local"})
WARNING_MONTHS = 6


@dataclass(frozen=True)
class RuntimeEnd:
    deprecated: date  # no more security patches
    create_blocked: date  # CloudFormation can no longer create a function on it


# AWS Lambda's runtime table (docs.aws.amazon.com/lambda/latest/dg/lambda-python.html, "Block function create").
RUNTIME_ENDS = {
    "python3.11": RuntimeEnd(deprecated=date(2027, 6, 30), create_blocked=date(2027, 7, 31)),
    "python3.12": RuntimeEnd(deprecated=date(2028, 10, 31), create_blocked=date(2028, 11, 30)),
    "python3.13": RuntimeEnd(deprecated=date(2029, 6, 30), create_blocked=date(2029, 7, 31)),
}


def stage_problems(config: Mapping[str, Any], stage: str) -> list[str]:
    """Each placeholder among the environment variables a stage packages (global, stage, per function)."""
    settings = config["stages"][stage]
    scopes: list[tuple[str, Mapping[str, Any]]] = [
        ("environment_variables", config.get("environment_variables", {})),
        (f"stages.{stage}.environment_variables", settings.get("environment_variables", {})),
    ]
    for function, values in settings.get("lambda_functions", {}).items():
        scopes.append((f"stages.{stage}.lambda_functions.{function}", values.get("environment_variables", {})))
    return [
        f".chalice/config.json {where}: {name} is a placeholder ({value})"
        for where, variables in scopes
        for name, value in placeholders_in(variables)
    ]


def catalogue_problems(path: Path, *, shown_as: str) -> list[str]:
    """Each placeholder role id or product of the catalogue, or why the catalogue does not load."""
    try:
        catalogue = load_catalogue(path)
    except ConfigurationError as error:
        return [f"{shown_as}: {error.message}"]
    problems = []
    for course in catalogue:
        if is_placeholder(course.role_id):
            problems.append(f"{shown_as}: course {course.slug!r} role_id is a placeholder ({course.role_id})")
        problems.extend(
            f"{shown_as}: course {course.slug!r} gumroad_products has a placeholder ({product})"
            for product in course.gumroad_products
            if is_placeholder(product)
        )
    return problems


def package_problems(project: Path, stage: str) -> list[str]:
    """Why ``stage`` must not be packaged from ``project`` (empty: it may)."""
    config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        return [f".chalice/config.json has no stage {stage!r}"]
    variables = {
        **config.get("environment_variables", {}),
        **config.get("stages", {}).get(stage, {}).get("environment_variables", {}),
    }
    courses = str(variables.get("COURSES_FILE") or DEFAULT_COURSES_FILE)
    problems = catalogue_problems(project / courses, shown_as=courses)
    if stage in LOCAL_STAGES:
        # The sandbox's catalogue must load; its example-looking values are the point of it.
        return [problem for problem in problems if "placeholder" not in problem]
    return stage_problems(config, stage) + problems


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def runtime_notice(runtime: str, today: date) -> tuple[bool, str]:
    """``(is_warning, text)`` about ``runtime``'s end of support as of ``today``."""
    end = RUNTIME_ENDS.get(runtime)
    upgrade = "see docs/operating.md, Runtime, for the upgrade path"
    if end is None:
        return True, f"runtime {runtime}: no end-of-support date known here; check AWS's Lambda runtime table"
    deprecates = f"AWS deprecates {runtime} on {end.deprecated}"
    blocks = f"blocks creating functions on {end.create_blocked}"
    if today >= end.create_blocked:
        return (
            True,
            f"warning: {deprecates}, {blocks}: a new stack can no longer be created on it; upgrade now ({upgrade})",
        )
    if today >= end.deprecated:
        return True, f"warning: {deprecates}, {blocks}: it gets no security patches any more; upgrade now ({upgrade})"
    # The count belongs to the deprecation, the first of the two dates.
    coming = f"{deprecates} ({(end.deprecated - today).days} days from now), {blocks}"
    warns_from = months_before(end.deprecated, WARNING_MONTHS)
    if today >= warns_from:
        return True, f"warning: {coming}; plan the upgrade ({upgrade})"
    return False, f"note: {coming}; make package warns from {warns_from}"


def template_runtimes(template: Mapping[str, Any]) -> list[str]:
    """The Lambda runtimes a packaged template (Chalice's sam.json) deploys, each once."""
    found = set()
    for resource in template.get("Resources", {}).values():
        runtime = resource.get("Properties", {}).get("Runtime")
        if isinstance(runtime, str):
            found.add(runtime)
    return sorted(found)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=".venv/bin/python -m ops.packaging", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="refuse placeholders in the stage's settings and catalogue")
    check.add_argument("--stage", required=True)
    check.add_argument("--project", default=".", help="the Chalice project directory (default: .)")
    runtime = commands.add_parser("runtime", help="say when the packaged Lambda runtime reaches its end")
    runtime.add_argument("template", help="the packaged template, e.g. out/prod/sam.json")
    runtime.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(Path(args.project), args.stage)
    return _runtime(Path(args.template), args.today or date.today())


def _check(project: Path, stage: str) -> int:
    problems = package_problems(project, stage)
    if problems:
        print(f"package {stage}: refused, placeholders would be deployed:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(
            "Fill in chalicelib/courses.json (docs/creator-guide.md, step 3); deploy-time values (tenant, "
            "secret, seller id) are stack parameters, not config.json settings.",
            file=sys.stderr,
        )
        return 2
    print(f"catalogue and settings for {stage}: ok")
    return 0


def _runtime(template: Path, today: date) -> int:
    runtimes = template_runtimes(json.loads(template.read_text(encoding="utf-8")))
    for name in runtimes:
        warning, text = runtime_notice(name, today)
        print(text, file=sys.stderr if warning else sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
