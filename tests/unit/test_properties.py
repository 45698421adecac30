"""Property-based tests (hypothesis, bounded): whatever a stranger sends, only the service's own errors come out.

The parsers raise only their typed errors; the ping route answers only 2xx, 4xx or a deliberate 503
(an upstream that is down), never a 500 and never ``internal_error``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import wiring
from chalicelib.access.bearer import extract_bearer_token
from chalicelib.access.jwks import parse_jwks
from chalicelib.errors import InvalidRequest, JwksFetchError, MalformedPing, NoCredentials, UnsupportedMediaType
from chalicelib.purchases.gumroad import parse_ping
from tests.chalice_client import app_client
from tests.purchase_support import PING_SECRET, PURCHASE_ENV, mock_token_endpoint, recorded_body
from tests.tokens import rsa_key

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "application/json",
        "text/plain",
        "",
    ]
)
# Keys and values near Gumroad's own: brackets, escapes, the fields the parser reads.
FIELD_NAMES = st.sampled_from(
    [
        "email",
        "user_email",
        "sale_id",
        "seller_id",
        "product_id",
        "permalink",
        "resource_name",
        "retry_count",
        "sale_timestamp",
        "ended_at",
        "restarted_at",
        "test",
        "refunded",
        "subscription_id",
        "purchase_ids[]",
        "custom_fields[email]",
        "card[visual]",
        "a[b][c]",
        "x%5By%5D",
        "[",
        "]",
    ]
) | st.text(max_size=12)
FIELD_VALUES = st.sampled_from(
    ["sale", "refund", "subscription_ended", "true", "false", "1e400", "NaN", "0001-01-01T00:00:00+05:00", ""]
) | st.text(max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def form_of(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{quote(key, safe='[]%')}={quote(value)}" for key, value in pairs).encode()


@st.composite
def ping_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    content_type = draw(CONTENT_TYPES)
    kind = draw(st.sampled_from(["recorded-edited", "fields", "json", "bytes"]))
    if kind == "recorded-edited":
        base = recorded_body(draw(st.sampled_from(["sale", "refund", "cancellation", "test_ping"])))
        extra = draw(st.lists(st.tuples(FIELD_NAMES, FIELD_VALUES), max_size=3))
        return content_type, base.encode() + (b"&" + form_of(extra) if extra else b"")
    if kind == "fields":
        return content_type, form_of(draw(st.lists(st.tuples(FIELD_NAMES, FIELD_VALUES), max_size=8)))
    if kind == "json":
        document = draw(st.dictionaries(FIELD_NAMES, JSON_VALUES | FIELD_VALUES, max_size=8))
        return content_type, json.dumps(document).encode()
    return content_type, draw(st.binary(max_size=300))


@BOUNDED
@given(ping_bodies())
def test_the_gumroad_parser_raises_only_its_own_errors(ping: tuple[str, bytes]) -> None:
    content_type, body = ping
    with contextlib.suppress(MalformedPing, UnsupportedMediaType):
        parse_ping(content_type, body)


@BOUNDED
@given(
    st.lists(st.text(max_size=60) | st.just("Bearer abc.def.ghi") | st.just("bearer  x"), max_size=3),
    st.sets(st.sampled_from(["access_token", "token", "x"])),
)
def test_the_bearer_parser_returns_a_token_or_raises_a_request_error(values: list[str], query: set[str]) -> None:
    try:
        token = extract_bearer_token(values, query_parameters=query)
    except (NoCredentials, InvalidRequest):
        return
    assert token
    assert " " not in token


@BOUNDED
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["kid", "kty", "use", "alg", "crv", "n", "e", "x", "y", "key_ops", "d", "k"]),
            JSON_VALUES,
            max_size=8,
        )
        | JSON_VALUES,
        max_size=4,
    ),
    st.booleans(),
)
def test_the_jwks_parser_keeps_usable_keys_or_says_there_are_none(entries: list[Any], with_good_key: bool) -> None:
    good = [rsa_key("good").public_jwk] if with_good_key else []
    body = json.dumps({"keys": [*entries, *good]}).encode()
    try:
        keys = parse_jwks(body, algorithms=("RS256",))
    except JwksFetchError:
        assert not with_good_key
        return
    assert "good" in keys or not with_good_key


DELIBERATE_503 = {"upstream_unavailable", "upstream_rejected", "purchase_not_yet_known", "service_misconfigured"}


def _auth0_down(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"statusCode": 503, "error": "Service Unavailable", "message": "down"})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ping_bodies(), st.booleans())
def test_the_ping_route_answers_every_body_without_a_500(ping: tuple[str, bytes], authenticated: bool) -> None:
    content_type, body = ping
    credentials = base64.b64encode(f"gumroad:{PING_SECRET if authenticated else 'guess'}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}"}
    if content_type:
        headers["Content-Type"] = content_type
    with _purchase_environment(), responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock_token_endpoint(mock)
        wiring.use_auth0_transport(httpx.MockTransport(_auth0_down))
        try:
            with app_client() as client:
                response = client.http.post("/gumroad/ping", headers=headers, body=body)
        finally:
            wiring.use_auth0_transport(None)

    answer = json.loads(response.body)
    assert response.status_code in (200, 400, 401, 403, 415, 503), response.status_code
    if response.status_code >= 400:
        assert set(answer) == {"error", "error_description"}
    if response.status_code == 503:
        assert answer["error"] in DELIBERATE_503, answer
    if not authenticated:
        assert response.status_code == 401


@contextlib.contextmanager
def _purchase_environment() -> Iterator[None]:
    """The purchase tests' environment, set and restored around one example (hypothesis forbids monkeypatch)."""
    names = (*PURCHASE_ENV, "AUTH0_SECRET_ID", "PING_QUEUE_URL")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(PURCHASE_ENV)
    os.environ.pop("AUTH0_SECRET_ID", None)
    os.environ.pop("PING_QUEUE_URL", None)
    sleep, time.sleep = time.sleep, lambda seconds: None
    try:
        yield
    finally:
        time.sleep = sleep
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        wiring.clear_caches()
