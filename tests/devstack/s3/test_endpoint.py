"""LocalS3's lifecycle: it starts, seeds, stops and frees its port; one endpoint per bucket per process."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from devstack.s3 import DEFAULT_KEY, AccessKey, LocalS3
from devstack.s3.seed import object_keys
from ops.content import content_type  # the bucket is seeded as `ops content push` stores files
from tests.devstack.s3.conftest import presign


def write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_a_folder_is_seeded_one_object_per_file_keyed_by_its_path(tmp_path: Path) -> None:
    content = write(tmp_path, {"course-a/lesson.html": b"<p>a</p>", "course-b/notes/file.zip": b"PK", ".hidden": b""})

    with LocalS3(bucket="course-content-seed", content=content) as endpoint:
        client = endpoint.client()
        listed = [item["Key"] for item in client.list_objects_v2(Bucket=endpoint.bucket)["Contents"]]
        lesson = client.get_object(Bucket=endpoint.bucket, Key="course-a/lesson.html")

    assert endpoint.seeded == listed == ["course-a/lesson.html", "course-b/notes/file.zip"]
    assert lesson["ContentType"] == "text/html; charset=utf-8"
    assert lesson["Body"].read() == b"<p>a</p>"


def test_content_types_come_from_the_file_name() -> None:
    assert content_type(Path("a.webm")) == "video/webm"
    assert content_type(Path("a.pdf")) == "application/pdf"
    assert content_type(Path("a.zip")) == "application/zip"
    assert content_type(Path("a.html")) == "text/html; charset=utf-8"
    assert content_type(Path("a.unknown-kind")) == "application/octet-stream"


def test_hidden_files_and_folders_are_not_content(tmp_path: Path) -> None:
    write(tmp_path, {".git/config": b"", "a/.DS_Store": b"", "a/b.txt": b""})

    assert list(object_keys(tmp_path)) == ["a/b.txt"]


def test_a_missing_content_folder_stops_the_start_and_frees_everything(tmp_path: Path) -> None:
    endpoint = LocalS3(bucket="course-content-missing", content=tmp_path / "nowhere")

    with pytest.raises(FileNotFoundError, match="no content folder"):
        endpoint.start()

    with pytest.raises(RuntimeError, match="not started"):
        _ = endpoint.port
    with LocalS3(bucket="course-content-missing"):
        pass  # the bucket was released


def test_stop_frees_the_port_and_the_objects(tmp_path: Path) -> None:
    content = write(tmp_path, {"c/a.txt": b"first"})
    with LocalS3(bucket="course-content-again", content=content) as first:
        port = first.port
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)

    with LocalS3(bucket="course-content-again") as second:
        listed = second.client().list_objects_v2(Bucket=second.bucket)

    assert listed["KeyCount"] == 0  # the first endpoint's objects are gone with it


def test_a_second_endpoint_for_the_same_bucket_in_one_process_is_refused() -> None:
    with LocalS3(bucket="course-content-twice"), pytest.raises(RuntimeError, match="already served"):
        LocalS3(bucket="course-content-twice").start()


def test_start_twice_is_refused() -> None:
    with LocalS3(bucket="course-content-started") as endpoint, pytest.raises(RuntimeError, match="already running"):
        endpoint.start()


def test_key_pairs_must_be_given_and_distinct() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LocalS3(keys=())
    with pytest.raises(ValueError, match="share an access key id"):
        LocalS3(keys=(DEFAULT_KEY, AccessKey(DEFAULT_KEY.access_key_id, "other")))


def test_a_key_pair_never_shows_its_secret() -> None:
    key = AccessKey("LOCALS3ID", "s3cr3t-value", session_token="t0ken-value")

    assert "s3cr3t-value" not in repr(key)
    assert "t0ken-value" not in repr(key)


def test_another_region_is_served_with_its_own_scope(tmp_path: Path) -> None:
    content = write(tmp_path, {"c/a.txt": b"eu"})
    with LocalS3(bucket="course-content-eu", region="eu-west-1", content=content) as endpoint:
        response = requests.get(presign(endpoint.client(), endpoint.bucket, "c/a.txt"), timeout=10)

    assert (response.status_code, response.content) == (200, b"eu")
