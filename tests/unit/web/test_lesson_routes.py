"""GET /courses/{slug} with its lessons' pre-signed URLs, and GET /courses/{slug}/lessons/{id}'s redirect, through
Chalice: only a token that opens the course gets a URL; every refusal carries none.

The JWKS is served by a real HTTP server on a loopback port; URLs are signed by boto3 with a Lambda role's kind of
credentials (environment variables), offline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chalice.test import Client

from app import app as chalice_app
from chalicelib import wiring
from chalicelib.config.content_settings import DEFAULT_URL_LIFETIME_SECONDS
from tests.tokens import AUDIENCE, LoopbackJwksServer, claims, loopback_jwks, rsa_key, sign

HANDBOOK = "read:course:serverless-handbook"
MEMBERSHIP = "read:course:pro-membership"
BUCKET = "shop-contentbucket-1a2b3c"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LoopbackJwksServer]:
    for name in ("AUTH0_ISSUER", "AUTH0_ALGORITHMS", "CORS_ALLOW_ORIGIN", "CONTENT_URL_LIFETIME_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "CONTENT_BUCKET_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH0_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("AUTH0_DOMAIN", "tenant.example.auth0.com")
    monkeypatch.setenv("COURSES_FILE", "tests/fixtures/courses.lessons.json")
    # As the template sets them, and the Lambda runtime its role's credentials.
    monkeypatch.setenv("CONTENT_BUCKET", BUCKET)
    monkeypatch.setenv("CONTENT_PREFIX", "courses/")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIATESTEXAMPLE00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-not-a-real-one")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "test-session-token")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with loopback_jwks(rsa_key("k1")) as server:
        monkeypatch.setenv("AUTH0_JWKS_URL", server.url)
        wiring.clear_caches()
        yield server
    wiring.clear_caches()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with Client(chalice_app, project_dir=str(tmp_path)) as test_client:
        yield test_client


def get(client: Client, path: str, *permissions: str, token: str | None = None) -> Any:
    token = token if token is not None else sign(rsa_key("k1"), claims(permissions=list(permissions)))
    return client.http.get(path, headers={"Authorization": f"Bearer {token}"})


def body_of(response: Any) -> Any:
    return json.loads(response.body)


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_a_buyer_gets_each_lesson_in_order_with_a_signed_url_to_its_object_and_when_it_expires(client: Client) -> None:
    before = int(time.time())
    response = get(client, "/courses/serverless-handbook", HANDBOOK)
    after = int(time.time())

    body = body_of(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert {key: body[key] for key in ("slug", "title", "permission")} == {
        "slug": "serverless-handbook",
        "title": "Serverless Handbook",
        "permission": HANDBOOK,
    }
    lessons = body["lessons"]
    assert [(lesson["id"], lesson["title"], lesson["kind"]) for lesson in lessons] == [
        ("what-serverless-means", 'What "serverless" means', "text"),
        ("deployment-checklist", "Deployment checklist", "file"),
        ("cold-starts", "Cold starts", "video"),
    ]
    for lesson in lessons:
        assert set(lesson) == {"id", "title", "kind", "url", "expires_at"}
        url = urlsplit(lesson["url"])
        assert (url.scheme, url.netloc) == ("https", f"{BUCKET}.s3.eu-west-1.amazonaws.com")
        assert url.path.startswith("/courses/serverless-handbook/")
        query = query_of(lesson["url"])
        assert query["X-Amz-Expires"] == str(DEFAULT_URL_LIFETIME_SECONDS)
        assert query["X-Amz-Security-Token"] == "test-session-token"
        expires = int(datetime.strptime(lesson["expires_at"], "%Y-%m-%dT%H:%M:%S%z").timestamp())
        signed = int(datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%S%z").timestamp())
        # Never later than the URL itself stops, never more than the lifetime away.
        assert before + DEFAULT_URL_LIFETIME_SECONDS <= expires <= after + DEFAULT_URL_LIFETIME_SECONDS
        assert expires <= signed + DEFAULT_URL_LIFETIME_SECONDS
    text, download, video = (query_of(lesson["url"]) for lesson in lessons)
    assert (text["response-content-type"], text["response-content-disposition"]) == (
        "text/html; charset=utf-8",
        "inline",
    )
    assert download["response-content-disposition"].startswith('attachment; filename="02-deployment-checklist.pdf"')
    assert video["response-content-type"] == "video/webm"


@pytest.mark.parametrize(
    ("path", "permissions", "status", "error"),
    [
        ("/courses/serverless-handbook", [MEMBERSHIP], 403, "insufficient_scope"),
        ("/courses/serverless-handbook/lessons/cold-starts", [MEMBERSHIP], 403, "insufficient_scope"),
        ("/courses/serverless-handbook/lessons/cold-starts", [], 403, "insufficient_scope"),
        ("/courses/no-such-course", [HANDBOOK], 404, "not_found"),
        ("/courses/serverless-handbook/lessons/no-such-lesson", [HANDBOOK], 404, "not_found"),
        ("/courses/no-such-course/lessons/cold-starts", [HANDBOOK], 404, "not_found"),
    ],
)
def test_a_refused_request_carries_no_url(
    client: Client, path: str, permissions: list[str], status: int, error: str
) -> None:
    response = get(client, path, *permissions)

    assert response.status_code == status
    assert body_of(response)["error"] == error
    assert "Location" not in response.headers
    assert "amazonaws" not in response.body.decode()


@pytest.mark.parametrize(
    "path", ["/courses/serverless-handbook", "/courses/serverless-handbook/lessons/no-such-lesson"]
)
def test_without_a_valid_token_nothing_is_told_not_even_whether_the_lesson_exists(client: Client, path: str) -> None:
    expired = sign(rsa_key("k1"), claims(permissions=[HANDBOOK], exp=int(time.time()) - 3600))

    missing = client.http.get(path)
    refused = get(client, path, token=expired)

    assert (missing.status_code, refused.status_code) == (401, 401)
    assert body_of(refused)["error"] == "invalid_token"
    assert "amazonaws" not in missing.body.decode() + refused.body.decode()


def test_a_lessons_address_redirects_a_buyer_to_a_fresh_url_that_no_one_caches(client: Client) -> None:
    first = get(client, "/courses/serverless-handbook/lessons/deployment-checklist", HANDBOOK)

    assert first.status_code == 302
    assert first.headers["Cache-Control"] == "no-store"
    location = first.headers["Location"]
    assert urlsplit(location).path == "/courses/serverless-handbook/02-deployment-checklist.pdf"
    assert query_of(location)["response-content-disposition"].startswith("attachment;")
    assert body_of(first) == {"url": location, "expires_at": body_of(first)["expires_at"]}


def test_the_lifetime_is_the_setting_and_more_than_an_hour_is_refused_when_the_settings_are_read(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENT_URL_LIFETIME_SECONDS", "3600")
    wiring.clear_caches()
    hour = get(client, "/courses/serverless-handbook", HANDBOOK)
    monkeypatch.setenv("CONTENT_URL_LIFETIME_SECONDS", "3601")
    wiring.clear_caches()
    longer = get(client, "/courses/serverless-handbook", HANDBOOK)

    assert {query_of(lesson["url"])["X-Amz-Expires"] for lesson in body_of(hour)["lessons"]} == {"3600"}
    assert longer.status_code == 503
    assert body_of(longer)["error"] == "service_misconfigured"
    assert "amazonaws" not in longer.body.decode()


def test_a_course_with_lessons_and_no_bucket_is_a_503_and_a_course_without_lessons_still_opens(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTENT_BUCKET")
    wiring.clear_caches()

    with_lessons = get(client, "/courses/serverless-handbook", HANDBOOK)
    without = get(client, "/courses/pro-membership", MEMBERSHIP)

    assert with_lessons.status_code == 503
    assert body_of(with_lessons)["error_description"] == (
        "the service is not configured correctly; the operator has been told in the log"
    )
    assert (without.status_code, body_of(without)["lessons"]) == (200, [])


def test_without_aws_credentials_no_url_is_made_and_the_answer_is_a_503_to_retry(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    wiring.clear_caches()

    response = get(client, "/courses/serverless-handbook", HANDBOOK)

    assert response.status_code == 503
    assert body_of(response)["error"] == "temporarily_unavailable"
    assert response.headers["Retry-After"]
    logged = [
        json.loads(record.getMessage()) for record in caplog.records if "content_unavailable" in record.getMessage()
    ]
    assert logged[0]["detail"] == "NoCredentialsError"


def test_the_lessons_address_answers_a_browsers_preflight_from_the_spa(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.com")
    wiring.clear_caches()

    response = client.http.options(
        "/courses/serverless-handbook/lessons/cold-starts", headers={"Origin": "https://app.example.com"}
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
