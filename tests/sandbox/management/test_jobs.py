"""``POST /api/v2/jobs/verification-email``: a job, and a verification e-mail in the outbox."""

from __future__ import annotations

from auth0.management import Auth0

from sandbox.server import SandboxServer
from tests.sandbox.support import (
    create_buyer,
    dev,
)


def test_a_verification_email_job_is_created_and_lands_in_the_outbox(server: SandboxServer, management: Auth0) -> None:
    user_id = create_buyer(server)["user_id"]
    job = management.jobs.verification_email.create(user_id=user_id)
    assert (job.type, job.status) == ("verification_email", "pending")
    assert [message["kind"] for message in dev(server, "GET", "outbox").json()["messages"]] == ["verification_email"]
