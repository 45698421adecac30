"""Tenant state: users, roles, passwords, applications, signing key and tokens, sign-ins, the state file and lock."""
