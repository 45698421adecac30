"""Operator commands for a deployed gumroad-auth0-gate (run from a checkout, never deployed)."""
