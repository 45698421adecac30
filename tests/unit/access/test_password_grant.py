"""POST /login's credentials: what a stray log line or traceback may show of them."""

from __future__ import annotations

from chalicelib.access.password_grant import PasswordCredentials


def test_the_credentials_repr_shows_the_username_and_never_the_password() -> None:
    credentials = PasswordCredentials(username="student@example.com", password="correct horse battery staple")

    shown = repr(credentials)

    assert "student@example.com" in shown
    assert "correct horse" not in shown
    assert "password=<redacted>" in shown
