"""`python -m ops --stage local content push` against the local S3 endpoint over loopback HTTP, every request signed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib import wiring
from devstack.s3 import DEFAULT_BUCKET, LocalS3
from devstack.s3.seed import seed_bucket
from devstack.stack import LocalStage
from ops.__main__ import main as ops
from tests.integration.harness import ROOT

HANDBOOK_FILES = ROOT / "content" / "serverless-handbook"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalS3]:
    with LocalS3(content=None, bucket=DEFAULT_BUCKET) as served:
        yield served


@pytest.fixture
def local_stage(endpoint: LocalS3, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`--stage local` with its endpoint on this test's port; an empty bucket; returns the endpoint's client."""
    environment = LocalStage.read().environment
    # `--stage local` writes the stage's variables into os.environ: each is recorded here so the test leaves none.
    for name in (*environment, "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    # Only the port differs from the stage's: the rest (bucket, prefix, key pair, region) comes from --stage local.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint.endpoint_url)
    assert environment["AWS_ENDPOINT_URL_S3"] != endpoint.endpoint_url
    wiring.clear_caches()
    client = endpoint.client()
    yield client
    for item in client.list_objects_v2(Bucket=DEFAULT_BUCKET).get("Contents", []):
        client.delete_object(Bucket=DEFAULT_BUCKET, Key=item["Key"])
    wiring.clear_caches()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The handbook's sample files, and a bonus file the local catalogue does not list."""
    copied = tmp_path / "handbook"
    shutil.copytree(HANDBOOK_FILES, copied)
    (copied / "extras").mkdir()
    (copied / "extras" / "04-Bonus Cheat Sheet.pdf").write_bytes(b"%PDF-1.4 bonus\n")
    (copied / ".DS_Store").write_bytes(b"finder noise")
    return copied


def push(folder: Path, *more: str) -> int:
    return ops(["--stage", "local", "content", "push", str(folder), "--course", "serverless-handbook", *more])


def keys(client: Any) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=DEFAULT_BUCKET).get("Contents", []))


def test_a_dry_run_says_what_it_would_upload_and_uploads_nothing(
    local_stage: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = push(folder)

    out = capsys.readouterr().out
    assert code == 0
    assert "would upload (dry run; add --apply) to s3://course-content-local/: 4 file(s)" in out
    assert "(4 new, 0 changed); unchanged 0; failed 0" in out
    assert keys(local_stage) == []


def test_apply_uploads_each_file_into_the_courses_folder_and_the_endpoint_serves_its_bytes(
    local_stage: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = push(folder, "--apply")

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert keys(local_stage) == [
        "serverless-handbook/01-what-serverless-means.html",
        "serverless-handbook/02-deployment-checklist.pdf",
        "serverless-handbook/03-cold-starts.webm",
        "serverless-handbook/extras/04-Bonus Cheat Sheet.pdf",
    ]
    video = local_stage.head_object(Bucket=DEFAULT_BUCKET, Key="serverless-handbook/03-cold-starts.webm")
    assert video["ContentType"] == "video/webm"
    lesson = local_stage.head_object(Bucket=DEFAULT_BUCKET, Key="serverless-handbook/01-what-serverless-means.html")
    assert lesson["ContentType"] == "text/html; charset=utf-8"
    url = local_stage.generate_presigned_url(
        "get_object", Params={"Bucket": DEFAULT_BUCKET, "Key": "serverless-handbook/03-cold-starts.webm"}
    )
    assert requests.get(url, timeout=10).content == (HANDBOOK_FILES / "03-cold-starts.webm").read_bytes()
    assert "uploaded to s3://course-content-local/: 4 file(s)" in captured.out
    assert "content push: 4/4 new serverless-handbook/extras/04-Bonus Cheat Sheet.pdf" in captured.err


def test_the_catalogue_lines_name_only_files_the_course_does_not_list(
    local_stage: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push(folder)

    out = capsys.readouterr().out
    printed = [line.strip() for line in out.splitlines() if line.startswith("{")]
    assert printed == [
        '{"id": "bonus-cheat-sheet", "title": "Bonus cheat sheet", "kind": "file", '
        '"key": "serverless-handbook/extras/04-Bonus Cheat Sheet.pdf"},'
    ]
    # Pasted into the catalogue, the line is a valid lesson of the course.
    catalogue = json.loads((ROOT / "chalicelib" / "courses.local.json").read_text(encoding="utf-8"))
    catalogue["courses"][0]["lessons"].append(json.loads(printed[0].rstrip(",")))
    from chalicelib.catalogue import parse_catalogue

    assert parse_catalogue(catalogue).by_slug("serverless-handbook") is not None


def test_a_second_push_skips_what_is_unchanged_and_sends_only_the_changed_file(
    local_stage: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push(folder, "--apply")
    first = local_stage.head_object(Bucket=DEFAULT_BUCKET, Key="serverless-handbook/03-cold-starts.webm")
    capsys.readouterr()
    (folder / "01-what-serverless-means.html").write_text("<h1>Rewritten</h1>", encoding="utf-8")

    code = push(folder, "--apply")

    out = capsys.readouterr().out
    assert code == 0
    assert "uploaded to s3://course-content-local/: 1 file(s)" in out
    assert "(0 new, 1 changed); unchanged 3; failed 0" in out
    again = local_stage.head_object(Bucket=DEFAULT_BUCKET, Key="serverless-handbook/03-cold-starts.webm")
    assert again["ETag"] == first["ETag"]
    assert again["LastModified"] == first["LastModified"]
    text = local_stage.get_object(Bucket=DEFAULT_BUCKET, Key="serverless-handbook/01-what-serverless-means.html")
    assert text["Body"].read() == b"<h1>Rewritten</h1>"


def test_a_push_of_the_repositorys_sample_lessons_to_make_runs_seeded_bucket_finds_them_unchanged(
    local_stage: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_bucket(local_stage, DEFAULT_BUCKET, ROOT / "content")  # what `make run` does at start

    code = push(HANDBOOK_FILES)

    assert code == 0
    assert "(0 new, 0 changed); unchanged 3; failed 0" in capsys.readouterr().out


def test_a_file_whose_name_cannot_be_a_lesson_key_stops_the_push_before_any_upload(
    local_stage: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "bad\\name.pdf").write_bytes(b"x")

    code = push(folder, "--apply")

    err = capsys.readouterr().err
    assert code == 2
    assert "ops: invalid_option: files whose names cannot be lesson keys: 'bad\\\\name.pdf'" in err
    assert keys(local_stage) == []


def test_an_unknown_course_or_a_missing_bucket_is_refused_naming_what_to_set(
    local_stage: Any, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = ops(["--stage", "local", "content", "push", str(folder), "--course", "no-such-course"])
    unknown_err = capsys.readouterr().err
    monkeypatch.setenv("CONTENT_BUCKET", " ")
    no_bucket = ops(["content", "push", str(folder), "--course", "serverless-handbook"])
    no_bucket_err = capsys.readouterr().err

    assert (unknown, no_bucket) == (2, 2)
    assert "no course 'no-such-course' in the catalogue (COURSES_FILE)" in unknown_err
    assert "CONTENT_BUCKET (the content bucket) is not set" in no_bucket_err
    assert keys(local_stage) == []
