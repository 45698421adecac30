"""A Chalice test client whose environment is exactly what the test set.

``chalice.test.Client`` copies a stage's ``environment_variables`` from
``.chalice/config.json`` into ``os.environ`` for every request. Unit tests point it at
a project whose only stage sets nothing, so the repository's real stages (which name
real tenants and secrets) never leak into a test.
"""

from __future__ import annotations

from pathlib import Path

from chalice.test import Client

from app import app

UNIT_PROJECT = Path(__file__).parent / "fixtures" / "unit_project"


def app_client() -> Client:
    return Client(app, project_dir=str(UNIT_PROJECT))
