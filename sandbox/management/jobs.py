"""``POST /api/v2/jobs/verification-email``: a verification e-mail job, and the message in the outbox."""

from __future__ import annotations

from sandbox.http.routing import Route
from sandbox.http.wire import Request, Response, json_response
from sandbox.management.payloads import parse_verification_job
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


class JobsApi:
    """The one job the service starts: 201 with the job, as Auth0 answers it."""

    def __init__(self, *, tenant: Tenant, site: Site) -> None:
        self._tenant = tenant
        self._site = site

    def routes(self) -> list[Route]:
        return [Route("POST", "/api/v2/jobs/verification-email", self.verification_email, ("update:users",))]

    def verification_email(self, request: Request) -> Response:
        user_id = parse_verification_job(request.json_object())
        job = self._tenant.queue_verification_email(user_id, base_url=self._site.base_url)
        return json_response(201, job)
