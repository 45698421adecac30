"""The course catalogue: which Gumroad products open which course, the Auth0 role behind it, and its lessons."""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from chalicelib.errors import ConfigurationError

# The SPA's routes.js holds the same pattern (tests/browser/test_course_addresses.py checks).
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Gumroad's product ids are 16 bytes in URL-safe base64 (24 characters ending "=="); permalinks,
# short product ids and product URLs never have that shape: a character set, not a regular expression,
# which a cold start would compile (docs/internals.md, "Cold start").
_BASE64URL = frozenset(string.ascii_letters + string.digits + "-_")
_COURSE_KEYS = {"slug", "title", "role_id", "permission", "gumroad_products"}
_OPTIONAL_COURSE_KEYS = {"lessons"}
_LESSON_KEYS = {"id", "title", "kind", "key"}
LESSON_KINDS = ("text", "video", "file")
# How a text or video lesson is shown inline: the type S3 is told to answer with (response-content-type), by the
# object key's extension. A file lesson is downloaded as it is stored.
INLINE_TYPES: Mapping[str, Mapping[str, str]] = {
    "text": {
        ".html": "text/html; charset=utf-8",
        ".htm": "text/html; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    },
    "video": {
        ".mp4": "video/mp4",
        ".m4v": "video/mp4",
        ".webm": "video/webm",
        ".ogv": "video/ogg",
        ".mov": "video/quicktime",
    },
}
# S3 keys are at most 1024 bytes; the deployment's content prefix (at most 100 bytes) goes in front.
MAX_KEY_BYTES = 900
MAX_PREFIX_BYTES = 100
_PREFIX_CHARACTERS = frozenset(string.ascii_letters + string.digits + "._-")


def looks_like_product_id(key: str) -> bool:
    return len(key) == 24 and key.endswith("==") and _BASE64URL.issuperset(key[:22])


class Lesson:
    """One lesson of a course: ``key`` is its object's key under the content prefix, in the course's folder.

    A plain slotted class, compared by value: every cold start defines it (``GET /courses`` included), and a
    NamedTuple costs about a million instructions to generate, ten times a class (docs/internals.md, "Cold start").
    """

    __slots__ = ("id", "key", "kind", "title")

    def __init__(self, id: str, title: str, kind: str, key: str) -> None:
        self.id = id
        self.title = title
        self.kind = kind
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lesson) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"Lesson(id={self.id!r}, title={self.title!r}, kind={self.kind!r}, key={self.key!r})"

    def _values(self) -> tuple[str, str, str, str]:
        return (self.id, self.title, self.kind, self.key)

    @property
    def inline_type(self) -> str | None:
        """The content type a text or video lesson is shown with; None for a file (a download)."""
        return INLINE_TYPES.get(self.kind, {}).get(extension_of(self.key))

    @property
    def file_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


class Course:
    """One course of the catalogue: its Gumroad products, the Auth0 role and permission, its lessons in order.

    A plain slotted class compared by value, like ``Lesson`` and for the same reason (docs/internals.md, "Cold
    start").
    """

    __slots__ = ("gumroad_products", "lessons", "permission", "role_id", "slug", "title")

    def __init__(
        self,
        *,
        slug: str,
        title: str,
        role_id: str,
        permission: str,
        gumroad_products: tuple[str, ...],
        lessons: tuple[Lesson, ...] = (),
    ) -> None:
        self.slug = slug
        self.title = title
        self.role_id = role_id
        self.permission = permission
        self.gumroad_products = gumroad_products
        self.lessons = lessons

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Course) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return (
            f"Course(slug={self.slug!r}, title={self.title!r}, role_id={self.role_id!r}, "
            f"permission={self.permission!r}, gumroad_products={self.gumroad_products!r}, lessons={self.lessons!r})"
        )

    def _values(self) -> tuple[str, str, str, str, tuple[str, ...], tuple[Lesson, ...]]:
        return (self.slug, self.title, self.role_id, self.permission, self.gumroad_products, self.lessons)

    @property
    def product_ids(self) -> tuple[str, ...]:
        return tuple(key for key in self.gumroad_products if looks_like_product_id(key))


class CourseCatalogue:
    """A validated catalogue, built once per container, with O(1) lookups by slug and by product key."""

    __slots__ = ("_by_other_key", "_by_other_key_without_id", "_by_product", "_by_slug", "courses")

    def __init__(self, courses: Iterable[Course]) -> None:
        ordered = tuple(courses)
        by_slug: dict[str, Course] = {}
        by_product: dict[str, Course] = {}
        for course in ordered:
            if course.slug in by_slug:
                raise ConfigurationError(f"course catalogue: duplicate slug {course.slug!r}")
            by_slug[course.slug] = course
            for product in course.gumroad_products:
                other = by_product.get(product)
                if other is not None and other.slug != course.slug:
                    raise ConfigurationError(
                        f"course catalogue: product {product!r} is listed in both {other.slug!r} and {course.slug!r}"
                    )
                by_product[product] = course
        by_other_key = {key: course for key, course in by_product.items() if not looks_like_product_id(key)}
        self.courses: tuple[Course, ...] = ordered
        self._by_slug: Mapping[str, Course] = by_slug
        self._by_product: Mapping[str, Course] = {
            key: course for key, course in by_product.items() if looks_like_product_id(key)
        }
        self._by_other_key: Mapping[str, Course] = by_other_key
        self._by_other_key_without_id: Mapping[str, Course] = {
            key: course for key, course in by_other_key.items() if not course.product_ids
        }

    @classmethod
    def from_courses(cls, courses: Iterable[Course]) -> CourseCatalogue:
        return cls(courses)

    def __iter__(self) -> Iterator[Course]:
        return iter(self.courses)

    def by_slug(self, slug: str) -> Course | None:
        return self._by_slug.get(slug)

    def match_product(self, product_id: str | None, other_keys: Iterable[str | None] = ()) -> Course | None:
        """The course a ping's product belongs to.

        When the ping carries a ``product_id``, a course that lists product ids matches on it alone: it
        is the one key that never changes and that no other product can carry. Its ``other_keys``
        (permalink, short product id, product URL) then match only courses whose catalogue entry lists
        no product id, so a ping for another product that borrows a course's permalink opens nothing.
        A ping without a ``product_id`` (Gumroad always sends one) may match any course's other keys.
        """
        others = self._by_other_key
        if product_id:
            course = self._by_product.get(product_id)
            if course is not None:
                return course
            others = self._by_other_key_without_id
        for key in other_keys:
            if key:
                course = others.get(key)
                if course is not None:
                    return course
        return None


def load_catalogue(path: str | os.PathLike[str]) -> CourseCatalogue:
    """Read and validate a catalogue file; raise ConfigurationError naming the problem."""
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError as exc:
        raise ConfigurationError(f"course catalogue not found: {name} (set COURSES_FILE)") from exc
    except OSError as exc:
        raise ConfigurationError(f"course catalogue {name} cannot be read: {exc.strerror}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"course catalogue {name} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from exc
    return parse_catalogue(document)


def parse_catalogue(document: Any) -> CourseCatalogue:
    if not isinstance(document, dict):
        raise ConfigurationError('course catalogue must be an object {"courses": [...]}')
    unknown = set(document) - {"courses"}
    if unknown:
        raise ConfigurationError(f"course catalogue: unknown top-level keys {sorted(unknown)}")
    entries = document.get("courses")
    if not isinstance(entries, list):
        raise ConfigurationError('course catalogue: "courses" must be a list')
    return CourseCatalogue.from_courses(_parse_course(index, entry) for index, entry in enumerate(entries))


def _parse_course(index: int, entry: Any) -> Course:
    where = f"course catalogue: courses[{index}]"
    _check_object(entry, where, required=_COURSE_KEYS, optional=_OPTIONAL_COURSE_KEYS)
    slug = _text(entry["slug"], f"{where}.slug")
    if not _SLUG.match(slug):
        raise ConfigurationError(f"{where}.slug {slug!r} must be lower-case letters, digits and hyphens (at most 64)")
    where = f"course catalogue: course {slug!r}"
    products = entry["gumroad_products"]
    if not isinstance(products, list) or not products:
        raise ConfigurationError(f"{where}: gumroad_products must be a non-empty list of strings")
    cleaned = tuple(_text(product, f"{where}: gumroad_products") for product in products)
    if len(set(cleaned)) != len(cleaned):
        raise ConfigurationError(f"{where}: gumroad_products lists a product twice")
    permission = _text(entry["permission"], f"{where}: permission")
    if any(character.isspace() for character in permission):
        raise ConfigurationError(f"{where}: permission must not contain spaces")
    return Course(
        slug=slug,
        title=_text(entry["title"], f"{where}: title"),
        role_id=_text(entry["role_id"], f"{where}: role_id"),
        permission=permission,
        gumroad_products=cleaned,
        lessons=_parse_lessons(slug, entry.get("lessons", [])),
    )


def course_folder(slug: str) -> str:
    """The folder of a course's lesson objects, under the content prefix."""
    return f"{slug}/"


def extension_of(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def key_problem(key: str, folder: str) -> str | None:
    """What is wrong with an object key for a lesson in ``folder``, or None: it must lie inside the folder, as
    plain path segments (no empty, "." or ".." one, no backslash or control character), within S3's length."""
    if not key.startswith(folder) or key == folder:
        return f"must be a file in the course's folder {folder!r}"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    if "\\" in key or any(character < " " or character == "\x7f" for character in key):
        return "must not contain a backslash or a control character"
    if any(segment in ("", ".", "..") or segment != segment.strip() for segment in key.split("/")):
        return "must be plain path segments (no empty, '.' or '..' segment, no surrounding spaces)"
    return None


def prefix_problem(prefix: str) -> str | None:
    """What is wrong with a content prefix (the folder of the bucket that holds every course's folder), or None.

    Empty, or folders each ending in "/", of letters, digits, ".", "_" and "-", none starting with ".": the
    template's ContentPrefix pattern, so that the API's grant (``<bucket>/<prefix>*``) is exactly that folder.
    """
    if len(prefix.encode("utf-8")) > MAX_PREFIX_BYTES:
        return f"must be at most {MAX_PREFIX_BYTES} bytes"
    if prefix and not prefix.endswith("/"):
        return 'must be empty or end with "/" (a folder, e.g. courses/)'
    for folder in prefix.split("/")[:-1]:
        if not folder or folder.startswith(".") or not _PREFIX_CHARACTERS.issuperset(folder):
            return 'must be folders of letters, digits, ".", "_" and "-", none empty or starting with "."'
    return None


def _parse_lessons(slug: str, entries: Any) -> tuple[Lesson, ...]:
    if not isinstance(entries, list):
        raise ConfigurationError(f"course catalogue: course {slug!r}: lessons must be a list")
    lessons = tuple(_parse_lesson(slug, index, entry) for index, entry in enumerate(entries))
    seen_ids: set[str] = set()
    seen_keys: set[str] = set()
    for lesson in lessons:
        where = f"course catalogue: course {slug!r}, lesson {lesson.id!r}"
        if lesson.id in seen_ids:
            raise ConfigurationError(f"{where}: another lesson of the course has this id")
        if lesson.key in seen_keys:
            raise ConfigurationError(f"{where}: another lesson of the course has the key {lesson.key!r}")
        seen_ids.add(lesson.id)
        seen_keys.add(lesson.key)
    return lessons


def _parse_lesson(slug: str, index: int, entry: Any) -> Lesson:
    where = f"course catalogue: course {slug!r}, lessons[{index}]"
    _check_object(entry, where, required=_LESSON_KEYS)
    lesson_id = _text(entry["id"], f"{where}: id")
    if not _SLUG.match(lesson_id):
        # It is a path segment of GET /courses/{slug}/lessons/{id}: the slug's rule keeps it one.
        raise ConfigurationError(
            f"{where}: id {lesson_id!r} must be lower-case letters, digits and hyphens (at most 64)"
        )
    where = f"course catalogue: course {slug!r}, lesson {lesson_id!r}"
    kind = _text(entry["kind"], f"{where}: kind")
    if kind not in LESSON_KINDS:
        raise ConfigurationError(f"{where}: kind {kind!r} must be one of {', '.join(LESSON_KINDS)}")
    key = entry["key"]
    if not isinstance(key, str) or not key:
        raise ConfigurationError(f"{where}: key must be a non-empty string")
    problem = key_problem(key, course_folder(slug))
    if problem:
        raise ConfigurationError(f"{where}: key {key!r} {problem}")
    lesson = Lesson(id=lesson_id, title=_text(entry["title"], f"{where}: title"), kind=kind, key=key)
    if kind in INLINE_TYPES and lesson.inline_type is None:
        known = ", ".join(INLINE_TYPES[kind])
        raise ConfigurationError(f"{where}: a {kind} lesson's key must end in one of {known} (a browser shows those)")
    return lesson


def _check_object(entry: Any, where: str, *, required: set[str], optional: set[str] | None = None) -> None:
    """``entry`` is an object with every ``required`` key and no key beyond them and ``optional``."""
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where} must be an object")
    unknown = set(entry) - required - (optional or set())
    if unknown:
        raise ConfigurationError(f"{where} has unknown keys {sorted(unknown)}")
    missing = sorted(required - set(entry))
    if missing:
        raise ConfigurationError(f"{where} is missing {', '.join(missing)}")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where} must be a non-empty string")
    return value.strip()
