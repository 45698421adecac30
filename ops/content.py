"""`python -m ops content push DIR --course SLUG`: a course's files into the stage's bucket; dry run unless --apply."""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chalicelib.catalogue import INLINE_TYPES, Course, course_folder, extension_of, key_problem
from ops.errors import InvalidOption

if TYPE_CHECKING:
    from ops.settings import Settings

CONTENT_DOC = """Upload a folder of lessons to the stage's content bucket, in the course's folder, and print the
catalogue lines for the files the course does not list yet.

Each file under DIR becomes the object CONTENT_PREFIX + SLUG/ + its path under DIR (hidden files and folders
are left out). A file whose object already holds the same bytes (its SHA-256, kept in the object's metadata
by an earlier push) is skipped; the others are uploaded with a content type from their name. The bucket and
prefix are the stack's ContentBucketName and ContentPrefix outputs (--stack), or CONTENT_BUCKET and
CONTENT_PREFIX (--stage local: the local S3 endpoint of `make run`, through AWS_ENDPOINT_URL_S3).

Dry run (the default): reads which objects exist and what they hold, uploads nothing. --apply uploads.
Progress goes to stderr; the summary and the catalogue lines to stdout. Paste the lines into the course's
"lessons" in the catalogue (COURSES_FILE), adjust titles and order, and deploy. The exit code is 1 when an
upload failed.
"""
SHA256_METADATA = "sha256"  # x-amz-meta-sha256: what "unchanged" is judged by
NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


@dataclass(frozen=True)
class Upload:
    """One file of the folder and where it goes."""

    path: Path
    key: str  # under the content prefix, as the catalogue names it: SLUG/...
    object_key: str  # in the bucket
    size: int
    sha256: str
    state: str = NEW


def add_content(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    content = commands.add_parser("content", help="course files in the stage's content bucket")
    actions = content.add_subparsers(dest="content_command", required=True)
    push = actions.add_parser(
        "push",
        help="upload a folder to a course's folder of the bucket, skipping unchanged files (dry run unless --apply)",
        description=CONTENT_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    push.add_argument("folder", metavar="DIR", type=Path, help="the folder of the course's lesson files")
    push.add_argument("--course", required=True, metavar="SLUG", help="the catalogue course the files belong to")
    push.add_argument("--apply", action="store_true", help="really upload (default: dry run)")
    push.set_defaults(run=run_push)


def run_push(args: argparse.Namespace, settings: Settings) -> int:
    from chalicelib import wiring
    from ops import aws

    bucket, prefix = settings.content_location()
    course = wiring.get_catalogue().by_slug(args.course)
    if course is None:
        raise InvalidOption(f"no course {args.course!r} in the catalogue (COURSES_FILE)")
    s3 = aws.s3()
    planned = [_with_state(s3, bucket, upload) for upload in plan(args.folder, course=course, prefix=prefix)]
    failed = push(s3, bucket, planned, apply=args.apply, progress=Progress(planned, stream=sys.stderr))
    print(summary(planned, failed=failed, apply=args.apply, bucket=bucket))
    lines = catalogue_lines(planned, course)
    if lines:
        print(f'\nlessons the catalogue does not list yet (paste into "lessons" of {course.slug!r}):')
        print("\n".join(lines))
    return 1 if failed else 0


def plan(folder: Path, *, course: Course, prefix: str) -> list[Upload]:
    """Every file under ``folder`` with its key in the course's folder; every bad name refused at once."""
    if not folder.is_dir():
        raise InvalidOption(f"{folder} is not a folder")
    uploads: list[Upload] = []
    problems: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        key = course_folder(course.slug) + relative.as_posix()
        problem = key_problem(key, course_folder(course.slug))
        if problem:
            problems.append(f"{relative.as_posix()!r}: the key {key!r} {problem}")
            continue
        size, digest = size_and_sha256(path)
        uploads.append(Upload(path=path, key=key, object_key=prefix + key, size=size, sha256=digest))
    if problems:
        raise InvalidOption("files whose names cannot be lesson keys: " + "; ".join(problems))
    if not uploads:
        raise InvalidOption(f"{folder} holds no files to upload")
    return uploads


def push(s3: Any, bucket: str, planned: list[Upload], *, apply: bool, progress: Progress) -> list[Upload]:
    """Upload what is new or changed (with ``apply``); returns the uploads that failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    failed: list[Upload] = []
    for upload in planned:
        if apply and upload.state != UNCHANGED:
            try:
                s3.upload_file(
                    str(upload.path),
                    bucket,
                    upload.object_key,
                    ExtraArgs={"ContentType": content_type(upload.path), "Metadata": {SHA256_METADATA: upload.sha256}},
                    Callback=progress.sent,
                )
            except (BotoCoreError, ClientError, OSError) as error:
                failed.append(upload)
                progress.note(f"content push: {upload.object_key} failed: {type(error).__name__}: {error}")
                continue
        progress.done(upload)
    progress.finish()
    return failed


def summary(planned: Iterable[Upload], *, failed: list[Upload], apply: bool, bucket: str) -> str:
    uploads = list(planned)
    sent = [u for u in uploads if u.state != UNCHANGED and u not in failed]
    verb = "uploaded" if apply else "would upload (dry run; add --apply)"
    lines = [
        f"{verb} to s3://{bucket}/: {len(sent)} file(s), {_size(sum(u.size for u in sent))} "
        f"({sum(u.state == NEW for u in sent)} new, {sum(u.state == CHANGED for u in sent)} changed); "
        f"unchanged {sum(u.state == UNCHANGED for u in uploads)}; failed {len(failed)}"
    ]
    lines += [f"  {u.state:9} {u.object_key}  {_size(u.size)}" for u in uploads]
    return "\n".join(lines)


def catalogue_lines(planned: Iterable[Upload], course: Course) -> list[str]:
    """One catalogue entry per file the course does not list, as the catalogue holds them (one per line)."""
    listed_keys = {lesson.key for lesson in course.lessons}
    taken = {lesson.id for lesson in course.lessons}
    lines = []
    for upload in planned:
        if upload.key in listed_keys:
            continue
        lesson_id = _unique(lesson_id_for(upload.key), taken)
        taken.add(lesson_id)
        entry = {"id": lesson_id, "title": title_for(lesson_id), "kind": kind_for(upload.key), "key": upload.key}
        lines.append(json.dumps(entry, ensure_ascii=False) + ",")
    return lines


def kind_for(key: str) -> str:
    """What a browser can show inline is a text or video lesson; anything else is downloaded."""
    extension = extension_of(key)
    return next((kind for kind, types in INLINE_TYPES.items() if extension in types), "file")


def lesson_id_for(key: str) -> str:
    """``serverless-handbook/03-Cold Starts.webm`` -> ``cold-starts``: the name without its order number."""
    name = key.rsplit("/", 1)[-1]
    stem = name[: name.rfind(".")] if name.rfind(".") > 0 else name
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in stem.lower()).split()
    while len(words) > 1 and words[0].isdigit():
        words.pop(0)
    return ("-".join(words) or "lesson")[:64].strip("-")


def title_for(lesson_id: str) -> str:
    return lesson_id.replace("-", " ").capitalize()


def content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


class Progress:
    """Files and bytes sent, as a bar on a terminal; on a pipe or file, one line per file."""

    def __init__(self, planned: list[Upload], *, stream: IO[str], width: int = 30) -> None:
        self._files = len(planned)
        self._bytes = sum(upload.size for upload in planned) or 1
        self._stream = stream
        self._tty = stream.isatty()
        self._width = width
        self._done_files = 0
        self._done_bytes = 0
        self._sent_in_file = 0

    def sent(self, count: int) -> None:  # boto3's Callback: bytes sent since its last call
        self._sent_in_file += count
        if self._tty:
            self._draw(self._done_bytes + self._sent_in_file)

    def done(self, upload: Upload) -> None:
        self._done_files += 1
        self._done_bytes += upload.size
        self._sent_in_file = 0
        if self._tty:
            self._draw(self._done_bytes)
        else:
            self._stream.write(f"content push: {self._done_files}/{self._files} {upload.state} {upload.object_key}\n")

    def note(self, line: str) -> None:
        self._stream.write(("\n" if self._tty else "") + line + "\n")

    def finish(self) -> None:
        if self._tty:
            self._stream.write("\n")
        self._stream.flush()

    def _draw(self, done_bytes: int) -> None:
        filled = self._width * min(done_bytes, self._bytes) // self._bytes
        self._stream.write(
            f"\rcontent push [{'#' * filled}{'.' * (self._width - filled)}] {self._done_files}/{self._files} files, "
            f"{_size(done_bytes)} of {_size(self._bytes)}"
        )
        self._stream.flush()


def _with_state(s3: Any, bucket: str, upload: Upload) -> Upload:
    """The upload, marked new, changed or unchanged by the object's recorded SHA-256 (a HEAD, no download)."""
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=upload.object_key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return upload
        raise
    same = head.get("Metadata", {}).get(SHA256_METADATA) == upload.sha256 and head.get("ContentLength") == upload.size
    return Upload(**{**upload.__dict__, "state": UNCHANGED if same else CHANGED})


def size_and_sha256(path: Path) -> tuple[int, str]:
    """The file's size and SHA-256 (hex), read in 1 MiB chunks: what "unchanged" is judged by."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _unique(candidate: str, taken: set[str]) -> str:
    number, chosen = 2, candidate
    while chosen in taken:
        chosen = f"{candidate[:60]}-{number}"
        number += 1
    return chosen


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    amount = count / 1024
    for unit in ("KB", "MB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"
