"""A course's lessons for a token that opens it: each with a pre-signed URL and the moment that URL stops working.

The decisions are here (which object, shown inline or downloaded, for how long); the signing itself is a port,
``UrlSigner``, which ``chalicelib/aws/presigned_urls.py`` implements with boto3. Signing is local computation:
no network call, so a lesson costs the private path no round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple, Protocol
from urllib.parse import quote

from chalicelib.catalogue import Course, Lesson
from chalicelib.config.content_settings import load_content_settings


class UrlSigner(Protocol):
    def signed_get(self, key: str, *, lifetime_seconds: int, content_type: str | None, content_disposition: str) -> str:
        """An absolute GET URL for the object ``key`` that works for ``lifetime_seconds`` from now, whose
        answer carries ``content_type`` (when given) and ``content_disposition``."""
        ...


class SignedLesson(NamedTuple):
    id: str
    title: str
    kind: str
    url: str
    expires_at: str  # RFC 3339, UTC, whole seconds

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "kind": self.kind, "url": self.url, "expires_at": self.expires_at}


class LessonUrls:
    """Signs a course's lessons for ``lifetime_seconds``; the object of a lesson is ``prefix`` + its key.

    ``expires_at`` is computed from ``clock`` read *before* signing, and the signer dates its signature when it
    signs, a moment later: the URL works at least until ``expires_at``, never past ``lifetime_seconds`` from the
    answer. (A URL signed with temporary credentials, a Lambda role's, also stops when their session ends.)

    Signing costs about half a millisecond a URL (boto3 resolves the endpoint and signs each one; bench/lessons.py),
    so a course's answer hands out the URL it signed earlier while at least half its lifetime is left, and signs
    anew after: every URL in an answer works for between half the lifetime and the whole of it. A URL is no
    secret of one buyer's (anyone who holds it can use it until it expires), so sharing it between buyers of the
    course changes nothing. A lesson's own address (``for_lesson``) always signs a fresh one.
    """

    def __init__(
        self,
        *,
        signer: UrlSigner,
        prefix: str,
        lifetime_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = signer
        self._prefix = prefix
        self._lifetime = lifetime_seconds
        self._clock = clock
        # Lesson -> (when its URL stops working, as epoch seconds; the signed lesson). Bounded by the catalogue.
        self._signed: dict[Lesson, tuple[int, SignedLesson]] = {}

    def for_course(self, course: Course) -> list[SignedLesson]:
        """Every lesson of ``course``, in the catalogue's order (an empty list signs nothing)."""
        if not course.lessons:
            return []
        now = int(self._clock())
        return [self._reused(lesson, now) for lesson in course.lessons]

    def for_lesson(self, lesson: Lesson) -> SignedLesson:
        """One lesson, freshly signed (``GET /courses/{slug}/lessons/{id}``'s redirect)."""
        return self._sign(lesson, int(self._clock()))[1]

    def _reused(self, lesson: Lesson, now: int) -> SignedLesson:
        cached = self._signed.get(lesson)
        if cached is not None and (cached[0] - now) * 2 >= self._lifetime:
            return cached[1]
        signed = self._sign(lesson, now)
        self._signed[lesson] = signed
        return signed[1]

    def _sign(self, lesson: Lesson, now: int) -> tuple[int, SignedLesson]:
        expires = now + self._lifetime
        inline = lesson.inline_type
        url = self._signer.signed_get(
            self._prefix + lesson.key,
            lifetime_seconds=self._lifetime,
            content_type=inline,
            content_disposition="inline" if inline is not None else attachment(lesson.file_name),
        )
        expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
        return expires, SignedLesson(lesson.id, lesson.title, lesson.kind, url, expires_at)


def attachment(file_name: str) -> str:
    """``Content-Disposition`` for a download saved as ``file_name`` (RFC 6266): a plain-ASCII ``filename`` for
    every browser, and the exact name, percent-encoded UTF-8, in ``filename*`` (RFC 8187) for those that read it."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def lesson_urls_from(environ: Mapping[str, str], signer: Callable[..., UrlSigner]) -> LessonUrls:
    """The lessons' URLs as the content settings in ``environ`` say (refused when wrong), signed by
    ``signer(bucket=..., region=...)``."""
    settings = load_content_settings(environ)
    return LessonUrls(
        signer=signer(bucket=settings.bucket, region=settings.region),
        prefix=settings.prefix,
        lifetime_seconds=settings.url_lifetime_seconds,
    )
