"""The course catalogue: loading, validation messages and product matching."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.catalogue import Course, CourseCatalogue, load_catalogue
from chalicelib.errors import ConfigurationError
from chalicelib.purchases.events import ProductKeys

# Product keys as the recorded pings in tests/fixtures/gumroad/ carry them.
PENCIL = ProductKeys(
    product_id="32-nPAicqbLj8B_WswVlMw==",
    permalink="pencil",
    short_product_id="QMGY",
    product_permalink="https://sahil.gumroad.com/l/pencil",
)
PRO = ProductKeys(
    product_id="8RhOl0SwGgLXJ0CXvRMUrQ==",
    permalink="pro",
    short_product_id="XCBbJ",
    product_permalink="https://sahil.gumroad.com/l/pro",
)

HANDBOOK: dict[str, Any] = {
    "slug": "serverless-handbook",
    "title": "Serverless Handbook",
    "role_id": "rol_abc123",
    "permission": "read:course:serverless-handbook",
    "gumroad_products": [
        "32-nPAicqbLj8B_WswVlMw==",
        "pencil",
        "QMGY",
        "https://sahil.gumroad.com/l/pencil",
    ],
}
MEMBERSHIP: dict[str, Any] = {
    "slug": "pro-membership",
    "title": "Pro Membership",
    "role_id": "rol_def456",
    "permission": "read:course:pro-membership",
    "gumroad_products": ["8RhOl0SwGgLXJ0CXvRMUrQ=="],
}


def valid_document() -> dict[str, Any]:
    return {"courses": [copy.deepcopy(HANDBOOK), copy.deepcopy(MEMBERSHIP)]}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "courses.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load(tmp_path: Path, document: Any) -> CourseCatalogue:
    return load_catalogue(write(tmp_path, document))


def refusal(tmp_path: Path, document: Any) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load(tmp_path, document)
    return str(caught.value)


def test_a_valid_catalogue_loads_every_course_in_order(tmp_path: Path) -> None:
    catalogue = load(tmp_path, valid_document())

    assert [course.slug for course in catalogue] == ["serverless-handbook", "pro-membership"]
    assert catalogue.by_slug("serverless-handbook") == Course(
        slug="serverless-handbook",
        title="Serverless Handbook",
        role_id="rol_abc123",
        permission="read:course:serverless-handbook",
        gumroad_products=(
            "32-nPAicqbLj8B_WswVlMw==",
            "pencil",
            "QMGY",
            "https://sahil.gumroad.com/l/pencil",
        ),
    )
    assert catalogue.by_slug("pro-membership") is not None
    assert catalogue.by_slug("missing") is None


def test_an_empty_course_list_loads_as_an_empty_catalogue(tmp_path: Path) -> None:
    catalogue = load(tmp_path, {"courses": []})

    assert list(catalogue) == []
    assert catalogue.match_product(PENCIL.product_id, PENCIL.other_keys) is None


def test_text_values_are_trimmed(tmp_path: Path) -> None:
    document = valid_document()
    document["courses"][0]["role_id"] = "  rol_abc123 "
    document["courses"][0]["gumroad_products"] = [" pencil "]

    catalogue = load(tmp_path, document)

    course = catalogue.by_slug("serverless-handbook")
    assert course is not None
    assert course.role_id == "rol_abc123"
    assert catalogue.match_product(None, ["pencil"]) == course


@pytest.mark.parametrize(
    "keys",
    [
        ProductKeys(product_id=PENCIL.product_id),
        ProductKeys(product_id=None, permalink="pencil"),
        ProductKeys(product_id=None, short_product_id="QMGY"),
        ProductKeys(product_id=None, product_permalink="https://sahil.gumroad.com/l/pencil"),
    ],
    ids=["product_id", "permalink", "short_product_id", "product_permalink"],
)
def test_a_ping_matches_its_course_by_any_listed_product_key(tmp_path: Path, keys: ProductKeys) -> None:
    catalogue = load(tmp_path, valid_document())

    course = catalogue.match_product(keys.product_id, keys.other_keys)

    assert course is not None
    assert course.slug == "serverless-handbook"


def test_a_product_in_no_course_matches_nothing(tmp_path: Path) -> None:
    catalogue = load(tmp_path, valid_document())

    unknown = ProductKeys(
        product_id="vG8hPbGGf7_I4S4mpSFMsw==",
        permalink="Klm",
        short_product_id="Klm",
        product_permalink="https://sahil.gumroad.com/l/Klm",
    )
    assert catalogue.match_product(unknown.product_id, unknown.other_keys) is None
    assert catalogue.match_product(None, [None, ""]) is None


@pytest.mark.parametrize(
    "borrowed",
    [
        {"permalink": "pencil"},
        {"short_product_id": "QMGY"},
        {"product_permalink": "https://sahil.gumroad.com/l/pencil"},
    ],
)
def test_another_products_ping_never_opens_a_course_by_its_permalink(tmp_path: Path, borrowed: dict[str, str]) -> None:
    # The course lists its product id: a ping with another product_id that carries the course's
    # permalink (or short id, or URL) is for another product, whatever else it says.
    catalogue = load(tmp_path, valid_document())

    keys = ProductKeys(product_id="vG8hPbGGf7_I4S4mpSFMsw==", **borrowed)

    assert catalogue.match_product(keys.product_id, keys.other_keys) is None


def test_a_course_without_a_product_id_matches_on_its_permalink_whatever_the_product_id(tmp_path: Path) -> None:
    document = valid_document()
    document["courses"][0]["gumroad_products"] = ["pencil", "https://sahil.gumroad.com/l/pencil"]
    catalogue = load(tmp_path, document)

    keys = ProductKeys(product_id="32-nPAicqbLj8B_WswVlMw==", permalink="pencil")
    course = catalogue.match_product(keys.product_id, keys.other_keys)

    assert course is not None
    assert course.slug == "serverless-handbook"


def test_product_id_wins_when_the_keys_point_to_different_courses(tmp_path: Path) -> None:
    # The seller renamed a permalink so that it now equals one another course lists.
    document = valid_document()
    document["courses"][0]["gumroad_products"] = ["pro"]
    document["courses"][1]["gumroad_products"] = ["32-nPAicqbLj8B_WswVlMw=="]
    catalogue = load(tmp_path, document)

    keys = ProductKeys(product_id="32-nPAicqbLj8B_WswVlMw==", permalink="pro")
    course = catalogue.match_product(keys.product_id, keys.other_keys)

    assert course is not None
    assert course.slug == "pro-membership"


def test_the_keys_other_than_the_product_id_are_listed_in_a_stable_order() -> None:
    assert PENCIL.other_keys == (
        "pencil",
        "QMGY",
        "https://sahil.gumroad.com/l/pencil",
    )


def _with_extra_top_level_key(document: dict[str, Any]) -> None:
    document["version"] = 2


def _with_unknown_course_key(document: dict[str, Any]) -> None:
    document["courses"][0]["role"] = "rol_abc123"


def _with_duplicate_slug(document: dict[str, Any]) -> None:
    document["courses"][1]["slug"] = "serverless-handbook"


def _with_product_in_two_courses(document: dict[str, Any]) -> None:
    document["courses"][1]["gumroad_products"].append("QMGY")


def _without_role_id(document: dict[str, Any]) -> None:
    del document["courses"][1]["role_id"]


def _with_empty_role_id(document: dict[str, Any]) -> None:
    document["courses"][1]["role_id"] = "  "


def _with_empty_products(document: dict[str, Any]) -> None:
    document["courses"][0]["gumroad_products"] = []


def _with_products_as_text(document: dict[str, Any]) -> None:
    document["courses"][0]["gumroad_products"] = "pencil"


def _with_product_twice_in_one_course(document: dict[str, Any]) -> None:
    document["courses"][0]["gumroad_products"].append("pencil")


def _with_bad_slug(document: dict[str, Any]) -> None:
    document["courses"][0]["slug"] = "Serverless Handbook"


def _with_spaced_permission(document: dict[str, Any]) -> None:
    document["courses"][0]["permission"] = "read:course serverless"


def _with_courses_as_object(document: dict[str, Any]) -> None:
    document["courses"] = {"serverless-handbook": HANDBOOK}


def _with_course_as_text(document: dict[str, Any]) -> None:
    document["courses"][1] = "pro-membership"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_with_extra_top_level_key, ["unknown top-level keys", "'version'"]),
        (_with_unknown_course_key, ["courses[0]", "unknown keys", "'role'"]),
        (_with_duplicate_slug, ["duplicate slug", "'serverless-handbook'"]),
        (
            _with_product_in_two_courses,
            ["'QMGY'", "listed in both", "'serverless-handbook'", "'pro-membership'"],
        ),
        (_without_role_id, ["courses[1]", "is missing role_id"]),
        (_with_empty_role_id, ["'pro-membership'", "role_id must be a non-empty string"]),
        (_with_empty_products, ["gumroad_products must be a non-empty list"]),
        (_with_products_as_text, ["gumroad_products must be a non-empty list"]),
        (_with_product_twice_in_one_course, ["lists a product twice"]),
        (_with_bad_slug, ["'Serverless Handbook'", "lower-case letters, digits and hyphens"]),
        (_with_spaced_permission, ["permission must not contain spaces"]),
        (_with_courses_as_object, ['"courses" must be a list']),
        (_with_course_as_text, ["courses[1] must be an object"]),
    ],
    ids=lambda value: value.__name__.lstrip("_") if callable(value) else "",
)
def test_a_bad_catalogue_fails_with_a_message_naming_the_problem(
    tmp_path: Path, mutate: Any, expected: list[str]
) -> None:
    document = valid_document()
    mutate(document)

    message = refusal(tmp_path, document)

    assert message.startswith("course catalogue")
    for words in expected:
        assert words in message


def test_a_catalogue_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    assert "must be an object" in refusal(tmp_path, [HANDBOOK])


def test_invalid_json_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "courses.json"
    path.write_text('{"courses": [\n  {"slug": "serverless-handbook",}\n]}', encoding="utf-8")

    with pytest.raises(ConfigurationError) as caught:
        load_catalogue(path)

    message = str(caught.value)
    assert "courses.json is not valid JSON" in message
    assert "line 2" in message


def test_a_missing_catalogue_file_is_refused_pointing_at_courses_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_catalogue(tmp_path / "nowhere.json")

    message = str(caught.value)
    assert "course catalogue not found: nowhere.json" in message
    assert "COURSES_FILE" in message


def test_a_catalogue_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_catalogue(tmp_path)


def test_duplicate_slugs_are_refused_when_courses_are_built_directly() -> None:
    course = Course(
        slug="serverless-handbook",
        title="Serverless Handbook",
        role_id="rol_abc123",
        permission="read:course:serverless-handbook",
        gumroad_products=("pencil",),
    )

    with pytest.raises(ConfigurationError, match="duplicate slug 'serverless-handbook'"):
        CourseCatalogue.from_courses([course, course])
