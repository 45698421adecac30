"""The course catalogue: which Gumroad products open which course, and the Auth0 role behind it."""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from chalicelib.errors import ConfigurationError

# The SPA's routes.js holds the same pattern (tests/browser/test_course_addresses.py checks).
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Gumroad's product ids are 16 bytes in URL-safe base64 (24 characters ending "=="); permalinks,
# short product ids and product URLs never have that shape: a character set, not a regular expression,
# which a cold start would compile (README, "Cold start").
_BASE64URL = frozenset(string.ascii_letters + string.digits + "-_")
_COURSE_KEYS = {"slug", "title", "role_id", "permission", "gumroad_products"}


def looks_like_product_id(key: str) -> bool:
    return len(key) == 24 and key.endswith("==") and _BASE64URL.issuperset(key[:22])


# A NamedTuple, not a dataclass: a cold start builds this class, and on Python 3.11 a frozen dataclass
# costs about a millisecond to generate (README, "Cold start").
class Course(NamedTuple):
    slug: str
    title: str
    role_id: str
    permission: str
    gumroad_products: tuple[str, ...]

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
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where} must be an object")
    unknown = set(entry) - _COURSE_KEYS
    if unknown:
        raise ConfigurationError(f"{where} has unknown keys {sorted(unknown)}")
    missing = sorted(_COURSE_KEYS - set(entry))
    if missing:
        raise ConfigurationError(f"{where} is missing {', '.join(missing)}")
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
    )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where} must be a non-empty string")
    return value.strip()
