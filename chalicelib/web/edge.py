"""What every route shares at the HTTP edge: any content type in, one error shape out, 405 for other methods."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib.logs import describe_failure, log_event
from chalicelib.web.answers import error_body, json_answer

# Chalice answers a Content-Type a route does not list with its own 415 body; every route takes any
# type and the service answers a wrong one itself, in its own shape.
ANY_CONTENT_TYPE = ["*/*"]
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

log = logging.getLogger("gumroad_auth0.web")

# Chalice's own error answers ({"Code": ..., "Message": ...}), re-said in the service's shape. Its
# messages are not reused: they can quote what the caller sent (a content type, a method).
_CHALICE_ERRORS = {
    400: ("bad_request", "the request cannot be read"),
    403: ("forbidden", "this request is not allowed"),
    404: ("not_found", "nothing is served at this path"),
    405: ("method_not_allowed", "this path does not accept this method"),
    415: ("unsupported_media_type", "this content type is not accepted here"),
}
_KEPT_HEADERS = ("Allow", "Access-Control-Allow-Origin", "Vary")


def answer_in_the_service_shape(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: whatever Chalice answers by itself leaves in ``{"error", "error_description"}``.

    A view that raised is a bug: it is logged (type and place, no message) and answered 503, never a 500
    with a stack trace. Routes catch their own errors; this is the net under them.
    """
    try:
        response = get_response(event)
    except Exception as unexpected:
        log_event(log, logging.ERROR, "request_failed", path=event.path, detail=describe_failure(unexpected))
        return _internal_error()
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    status = response.status_code
    if status not in _CHALICE_ERRORS:
        log_event(log, logging.ERROR, "request_failed", path=event.path, chalice_error=str(body["Code"])[:64])
        return _internal_error()
    code, description = _CHALICE_ERRORS[status]
    headers = {name: str(response.headers[name]) for name in _KEPT_HEADERS if name in response.headers}
    return json_answer(status, error_body(code, description), headers)


def refuse_other_methods(app: Chalice) -> None:
    """Give every path a route for the methods it does not serve, answering the service's own 405.

    Registered as routes (not only handled in middleware) so that API Gateway forwards those methods
    to the function too: otherwise it answers them itself with a 403 the service does not control.
    """
    for index, (path, entries) in enumerate(sorted(app.routes.items())):
        allowed = sorted(entries)
        others = [method for method in HTTP_METHODS if method not in entries]
        if others:
            app.route(path, methods=others, name=f"method_not_allowed_{index}", content_types=ANY_CONTENT_TYPE)(
                _method_not_allowed(allowed)
            )


def _method_not_allowed(allowed: list[str]) -> Callable[..., Response]:
    def refuse(**path_parameters: Any) -> Response:
        return json_answer(
            405,
            error_body("method_not_allowed", "this path does not accept this method"),
            {"Allow": ", ".join(allowed)},
        )

    return refuse


def _internal_error() -> Response:
    return json_answer(
        503, error_body("internal_error", "the service failed unexpectedly; retry later"), {"Retry-After": "5"}
    )
