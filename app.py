"""Routes only. Each reads top to bottom (authenticate -> authorise -> answer) and calls the chalicelib
service that does the work; errors become answers in ``chalicelib/web``.

The purchase path (pings, queue worker, reconciliation, login) is imported inside its routes, so a cold
container serving a private route never loads it: see "How the code is laid out" in the README.
"""

from __future__ import annotations

from chalice.app import Chalice, CloudWatchEvent, Rate, Request, Response, SQSEvent

from chalicelib import wiring
from chalicelib.access.courses import authorise, course_by_slug, display_name, granted_courses, lesson_by_id
from chalicelib.logs import configure_logging
from chalicelib.web.answers import ok, redirect
from chalicelib.web.edge import ANY_CONTENT_TYPE, answer_in_the_service_shape, refuse_other_methods
from chalicelib.web.private_routes import PrivateRoutes, authenticate, token_to_verify

# The FIFO queue the worker reads. The deployment template (.chalice/deploy-resources.json) creates it
# with its dead-letter queue and replaces this placeholder ARN with the real one, per stack.
PING_QUEUE_NAME = "gumroad-auth0-gate-pings.fifo"
PING_QUEUE_PLACEHOLDER_ARN = f"arn:aws:sqs:us-east-1:000000000000:{PING_QUEUE_NAME}"
# At most this many workers at once, set on the SQS event source (ScalingConfig.MaximumConcurrency, at
# least 2). The template reserves exactly this many instances for the worker, never fewer: below it
# Lambda's pollers would be throttled, and throttled receives count toward the queue's maxReceiveCount,
# dead-lettering pings nobody processed. Auth0's
# rate is the tenant's, so each worker paces at AUTH0_RATE_LIMIT_PER_SECOND / AUTH0_RATE_LIMIT_SHARED_BY,
# which .chalice/config.json sets to this number for the worker (tests/unit/test_deployment.py checks).
WORKER_MAXIMUM_CONCURRENCY = 2

app = Chalice(app_name="gumroad-auth0-gate")
configure_logging()
app.register_middleware(answer_in_the_service_shape, "http")
# After the shape middleware: the private routes' CORS middleware runs inside it.
private_routes = PrivateRoutes(app)
_ping_services = wiring.LivePingServices()
_sign_in_services = wiring.LiveSignInServices()


# --- Purchase -> access: Gumroad pings grant and revoke course roles ---------------------------
# Every route takes any content type (ANY_CONTENT_TYPE): the service answers a wrong one with its own JSON.


@app.route("/gumroad/ping", methods=["POST"], content_types=ANY_CONTENT_TYPE)
def gumroad_ping() -> Response:
    from chalicelib.web.pings import receive_ping

    request = _request()
    return receive_ping(
        services=_ping_services,
        authorization=request.headers.get("authorization"),
        token_params=_query_values(request, "token"),
        content_type=request.headers.get("content-type"),
        body=_raw_body(request),
    )


@app.on_sqs_message(
    queue_arn=PING_QUEUE_PLACEHOLDER_ARN,
    batch_size=1,
    name="process_ping",
    maximum_concurrency=WORKER_MAXIMUM_CONCURRENCY,
)
def process_ping(event: SQSEvent) -> None:
    # One message per batch: Chalice has no partial batch failure, so a failure retries
    # only this buyer's message (see chalicelib/purchases/worker.py).
    from chalicelib.purchases.worker import queue_record

    wiring.get_worker().process_all(queue_record(record.to_dict()) for record in event)


@app.schedule(Rate(30, unit=Rate.MINUTES), name="reconcile")
def reconcile(event: CloudWatchEvent) -> None:
    # Pings Gumroad never delivered, read back from its Sales API into the same queue (purchases/reconcile.py).
    # The template's ReconcileSchedule parameter overrides this rate per stack.
    wiring.run_reconciliation()


@app.route("/login", methods=["POST"], content_types=ANY_CONTENT_TYPE)
def login() -> Response:
    # For scripts and CLIs; browsers use Universal Login (see README).
    from chalicelib.web.login import answer_login

    request = _request()
    return answer_login(
        wiring.get_login,
        body=_raw_body(request),
        content_type=request.headers.get("content-type"),
        client_ip=_client_ip(request),
    )


@app.route("/auth0/post-login", methods=["POST"], content_types=ANY_CONTENT_TYPE)
def post_login() -> Response:
    # The post-login Action (actions/post-login.js) asks what a sign-in means: a link, a grant, or nothing.
    from chalicelib.web.sign_in import answer_post_login

    request = _request()
    return answer_post_login(
        services=_sign_in_services,
        authorization=request.headers.get("authorization"),
        content_type=request.headers.get("content-type"),
        body=_raw_body(request),
    )


# --- Access -> API: Auth0 access tokens open the courses -------------------------------------
# PrivateRoutes gives each its CORS headers and OPTIONS preflight, and turns refusals into RFC 6750 answers.


@private_routes.route("/private", methods=["GET"])
def private() -> Response:
    token = authenticate(_request())
    return ok({"message": f"Hello {display_name(token, wiring.get_access_settings().name_claim)}"})


@private_routes.route("/verify", methods=["POST"])
def verify() -> Response:
    # The session check a SPA runs when it starts: the token travels in the JSON body.
    token = wiring.get_verifier().verify(token_to_verify(_request()))
    return ok(
        {
            "status": "valid",
            "sub": token.subject,
            "expires_at": token.expires_at,
            "permissions": sorted(token.permissions),
        }
    )


@private_routes.route("/courses", methods=["GET"])
def list_courses() -> Response:
    token = authenticate(_request())
    courses = granted_courses(token, wiring.get_catalogue())
    return ok({"courses": [{"slug": course.slug, "title": course.title} for course in courses]})


@private_routes.route("/courses/{slug}", methods=["GET"])
def get_course(slug: str) -> Response:
    token = authenticate(_request())
    course = course_by_slug(wiring.get_catalogue(), slug)  # 404, told only after the token checks out
    authorise(token, course)  # 403 insufficient_scope, and no URL signed
    # Each lesson with a pre-signed URL; a course without lessons loads neither their settings nor boto3.
    lessons = wiring.get_lesson_urls().for_course(course) if course.lessons else []
    return ok(
        {
            "slug": course.slug,
            "title": course.title,
            "permission": course.permission,
            "lessons": [lesson.as_json() for lesson in lessons],
        }
    )


@private_routes.route("/courses/{slug}/lessons/{lesson_id}", methods=["GET"])
def open_lesson(slug: str, lesson_id: str) -> Response:
    # A lesson's lasting address: a bookmark that opens for a buyer (a fresh URL each time), and for no one else.
    token = authenticate(_request())
    course = course_by_slug(wiring.get_catalogue(), slug)
    authorise(token, course)
    lesson = lesson_by_id(course, lesson_id)  # 404, told only after the token opens the course
    signed = wiring.get_lesson_urls().for_lesson(lesson)
    return redirect(signed.url, {"url": signed.url, "expires_at": signed.expires_at})


# Last: every other method on these paths gets the service's own 405 (in AWS too, where API Gateway
# would otherwise answer a method it does not know with its own 403).
refuse_other_methods(app)


def _query_values(request: Request, name: str) -> list[str]:
    # Chalice's MultiDict.getlist raises KeyError for a name that is absent (and query_params is None
    # when there is no query string at all).
    params = request.query_params
    return list(params.getlist(name)) if params is not None and name in params else []


def _client_ip(request: Request) -> str | None:
    identity = request.context.get("identity") or {}
    source_ip = identity.get("sourceIp")
    return source_ip if isinstance(source_ip, str) and source_ip else None


def _raw_body(request: Request) -> bytes:
    body = request.raw_body
    return body if isinstance(body, bytes) else body.encode("utf-8")


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it before calling a view
    return request


__all__ = ["app", "wiring"]
