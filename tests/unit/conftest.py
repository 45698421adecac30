"""Fixtures every unit test can ask for by name."""

from tests.auth0_replay import auth0_replay

__all__ = ["auth0_replay"]
