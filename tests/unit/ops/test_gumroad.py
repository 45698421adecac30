"""`ops gumroad whoami`: the seller id from GET /v2/user, and whether the deployment's agrees."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

from chalicelib import wiring
from ops.__main__ import main as ops
from tests.purchase_support import SELLER_ID, form_body, recorded_body, set_purchase_env
from tests.unit.web.test_pings import Harness, harness

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gumroad_api"
USER = "https://api.gumroad.com/v2/user"
ACCESS_TOKEN = "gumroad-oauth-token-for-tests-Xq9"
__all__ = ["harness"]  # the ping route's fixture


def user_body() -> Any:
    return json.loads((FIXTURES / "user.json").read_text(encoding="utf-8"))


@pytest.fixture
def gumroad(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    set_purchase_env(monkeypatch)
    monkeypatch.setenv("GUMROAD_ACCESS_TOKEN", ACCESS_TOKEN)
    wiring.clear_caches()
    with responses.RequestsMock() as mock:
        yield mock
    wiring.clear_caches()


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = ops(args)
    captured = capsys.readouterr()
    assert ACCESS_TOKEN not in captured.out + captured.err
    return code, captured.out, captured.err


def test_the_recorded_user_id_is_the_seller_id_pings_carry() -> None:
    # User#as_json's user_id and the ping's seller_id are both ObfuscateIds.encrypt(id) (antiwork/gumroad).
    assert user_body()["user"]["user_id"] == parse_qs(recorded_body("sale"))["seller_id"][0] == SELLER_ID


def test_whoami_prints_the_seller_id_and_how_to_deploy_with_it(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GUMROAD_SELLER_ID")
    gumroad.add(responses.GET, USER, json=user_body())

    code, out, _ = run(["gumroad", "whoami"], capsys)

    assert code == 0
    assert f"GUMROAD_SELLER_ID={SELLER_ID}" in out
    assert f"GumroadSellerId={SELLER_ID}" in out
    assert "7312845069021" not in out, "the account's external id is not the seller id"
    assert gumroad.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_whoami_confirms_a_deployment_with_the_same_seller_id(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, USER, json=user_body())

    code, out, _ = run(["gumroad", "whoami"], capsys)

    assert code == 0
    assert "its pings are accepted" in out


def test_whoami_flags_a_deployment_whose_seller_id_would_refuse_every_ping(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUMROAD_SELLER_ID", "SomeoneElse00000000000==")
    gumroad.add(responses.GET, USER, json=user_body())

    code, out, _ = run(["gumroad", "whoami"], capsys)

    assert code == 1
    assert "MISMATCH" in out
    assert f"GumroadSellerId={SELLER_ID}" in out


def test_whoami_with_a_refused_token_is_one_line(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, USER, status=401, json={"error": "invalid_token"})

    code, out, err = run(["gumroad", "whoami"], capsys)

    assert (code, out) == (2, "")
    assert err == (
        "ops: gumroad_api_error: Gumroad refused the access token (GET /v2/user: 401); check GUMROAD_ACCESS_TOKEN\n"
    )


def test_a_ping_refused_for_its_seller_logs_the_seller_id_it_carried(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # The other way to learn the seller id: the 403's log line (only after the ping secret matched).
    with caplog.at_level(logging.INFO, logger="gumroad_auth0"):
        response = harness.ping(form_body("sale", seller_id="TheRealSellerId0000000=="))

    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gumroad_auth0.ping"]
    assert response.status_code == 403
    assert line["status"] == 403
    assert line["seller_id"] == "TheRealSellerId0000000=="


PRODUCTS = "https://api.gumroad.com/v2/products"


def products_page(name: str) -> Any:
    return json.loads((FIXTURES / f"products_page_{name}.json").read_text(encoding="utf-8"))


def add_product_pages(gumroad: responses.RequestsMock) -> None:
    first = products_page("first")
    gumroad.add(
        responses.GET,
        PRODUCTS,
        json=products_page("last"),
        match=[responses.matchers.query_param_matcher({"page_key": first["next_page_key"]})],
    )
    gumroad.add(responses.GET, PRODUCTS, json=first, match=[responses.matchers.query_param_matcher({})])


def test_the_recorded_products_carry_the_ids_pings_carry_as_product_id() -> None:
    # Product::AsJson#as_json_for_api's "id" is external_id, the ping's product_id (Purchase#as_json, antiwork/gumroad).
    ids = [product["id"] for product in products_page("last")["products"]]
    assert parse_qs(recorded_body("sale"))["product_id"][0] in ids


def test_products_lists_every_page_with_ids_prices_and_the_course_each_opens(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    add_product_pages(gumroad)

    code, out, _ = run(["gumroad", "products"], capsys)

    assert code == 0
    assert len(gumroad.calls) == 2, "both pages are read"
    assert gumroad.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    rows = {line.split()[0]: line.split("  ") for line in out.splitlines() if line[:24].endswith("==")}
    cells = {product_id: [cell.strip() for cell in row if cell.strip()] for product_id, row in rows.items()}
    assert cells == {
        "8RhOl0SwGgLXJ0CXvRMUrQ==": [
            "8RhOl0SwGgLXJ0CXvRMUrQ==",
            "$10 a month",
            "published",
            "Pro Membership",
            "pro-membership",
        ],
        "32-nPAicqbLj8B_WswVlMw==": [
            "32-nPAicqbLj8B_WswVlMw==",
            "$5",
            "published",
            "Pencil Icon PSD",
            "serverless-handbook",
        ],
        "A-m3CDDC5dlrSdKZp0RFhA==": [
            "A-m3CDDC5dlrSdKZp0RFhA==",
            "€49+",
            "unpublished",
            "Serverless Handbook: the course",
            "-",
        ],
    }


def test_products_prints_a_catalogue_entry_that_the_catalogue_accepts_for_each_product_it_lacks(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib.catalogue import parse_catalogue
    from ops.packaging import catalogue_problems

    add_product_pages(gumroad)

    _, out, _ = run(["gumroad", "products"], capsys)

    entries = [json.loads(line.rstrip(",")) for line in out.splitlines() if line.startswith("{")]
    assert 'to add to the "courses" list of\ntests/fixtures/courses.purchase.json' in out
    assert entries == [
        {
            "slug": "serverless-handbook-the-course",
            "title": "Serverless Handbook: the course",
            "role_id": "rol_REPLACE_WITH_THE_AUTH0_ROLE_ID",
            "permission": "read:course:serverless-handbook-the-course",
            "gumroad_products": ["A-m3CDDC5dlrSdKZp0RFhA=="],
        }
    ]
    shipped = json.loads(Path("tests/fixtures/courses.purchase.json").read_text(encoding="utf-8"))
    document = {"courses": [*shipped["courses"], *entries]}
    catalogue = parse_catalogue(document)
    assert catalogue.match_product("A-m3CDDC5dlrSdKZp0RFhA==") is not None
    # Until the role exists, the entry is a placeholder that `make package` refuses by name.
    assert any("role_id" in problem for problem in catalogue_problems_of(document, catalogue_problems))


def catalogue_problems_of(document: Any, check: Any) -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "courses.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return list(check(path, shown_as="courses.json"))


def test_products_as_json_gives_each_product_its_course_or_entry(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    add_product_pages(gumroad)

    _, out, _ = run(["gumroad", "products", "--json"], capsys)

    listed = {row["product_id"]: row for row in json.loads(out)}
    assert list(listed) == ["8RhOl0SwGgLXJ0CXvRMUrQ==", "32-nPAicqbLj8B_WswVlMw==", "A-m3CDDC5dlrSdKZp0RFhA=="]
    assert listed["32-nPAicqbLj8B_WswVlMw=="]["price_cents"] == 500
    assert listed["32-nPAicqbLj8B_WswVlMw=="]["course"] == "serverless-handbook"
    assert listed["32-nPAicqbLj8B_WswVlMw=="]["catalogue_entry"] is None
    assert listed["A-m3CDDC5dlrSdKZp0RFhA=="]["currency"] == "eur"
    assert listed["A-m3CDDC5dlrSdKZp0RFhA=="]["catalogue_entry"]["gumroad_products"] == ["A-m3CDDC5dlrSdKZp0RFhA=="]


def test_products_still_lists_the_ids_when_the_catalogue_cannot_be_read(
    gumroad: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COURSES_FILE", "tests/fixtures/no-such-catalogue.json")
    add_product_pages(gumroad)

    code, out, _ = run(["gumroad", "products"], capsys)

    assert code == 0
    assert "32-nPAicqbLj8B_WswVlMw==" in out
    assert "the catalogue could not be read" in out
    assert "course catalogue not found: no-such-catalogue.json" in out


def test_products_of_an_account_without_any_says_so(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, PRODUCTS, json={"success": True, "products": []})

    code, out, _ = run(["gumroad", "products"], capsys)

    assert (code, out.strip()) == (0, "no products: Gumroad lists none for this account (GET /v2/products)")


def test_products_with_a_token_without_the_scope_is_one_line(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    gumroad.add(responses.GET, PRODUCTS, status=403, json={"error": "insufficient_scope"})

    code, out, err = run(["gumroad", "products"], capsys)

    assert (code, out) == (2, "")
    assert err.startswith("ops: gumroad_api_error: Gumroad says the access token lacks the view_sales scope")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Serverless Handbook: the course", "serverless-handbook-the-course"),
        ("Écoles & Cafés — 2025!", "ecoles-cafes-2025"),
        ("   ", "course"),
        ("x" * 80, "x" * 64),
    ],
)
def test_a_product_name_becomes_a_slug_the_catalogue_accepts(name: str, slug: str) -> None:
    from chalicelib.catalogue import _SLUG
    from ops.gumroad import slug_for

    assert slug_for(name) == slug
    assert _SLUG.match(slug)


def test_a_slug_already_taken_gets_a_number() -> None:
    from ops.gumroad import unique_slug

    assert unique_slug("handbook", {"handbook", "handbook-2"}) == "handbook-3"
    assert unique_slug("x" * 64, {"x" * 64}) == "x" * 62 + "-2"


def one_page_of(*products: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "products": list(products)}


def unmatched_product(**changes: Any) -> dict[str, Any]:
    """The recorded page's product that opens no course of the test catalogue, changed as given."""
    [product] = [item for item in products_page("last")["products"] if item["id"] == "A-m3CDDC5dlrSdKZp0RFhA=="]
    return {**product, **changes}


def test_two_products_of_the_same_name_get_entries_with_different_slugs(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    twin = unmatched_product(id="B-twinProductId000000A==")
    gumroad.add(responses.GET, PRODUCTS, json=one_page_of(unmatched_product(), twin))

    _, out, _ = run(["gumroad", "products", "--json"], capsys)

    entries = [row["catalogue_entry"] for row in json.loads(out)]
    assert [(entry["slug"], entry["gumroad_products"]) for entry in entries] == [
        ("serverless-handbook-the-course", ["A-m3CDDC5dlrSdKZp0RFhA=="]),
        ("serverless-handbook-the-course-2", ["B-twinProductId000000A=="]),
    ]


def test_a_product_name_with_control_characters_is_printed_without_them(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    named = unmatched_product(name="Handbook\x1b[2J\r\nreloaded", formatted_price="€49\x07")
    gumroad.add(responses.GET, PRODUCTS, json=one_page_of(named))

    code, out, _ = run(["gumroad", "products"], capsys)

    assert code == 0
    assert "\x1b" not in out
    assert "\r" not in out
    assert "\x07" not in out
    [row] = [line for line in out.splitlines() if line.startswith("A-m3CDDC5dlrSdKZp0RFhA==")]
    assert [cell.strip() for cell in row.split("  ") if cell.strip()] == [
        "A-m3CDDC5dlrSdKZp0RFhA==",
        "€49",
        "unpublished",
        "Handbook[2Jreloaded",
        "-",
    ]


def test_a_product_without_an_id_is_one_line(
    gumroad: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    without_id = {key: value for key, value in unmatched_product().items() if key != "id"}
    gumroad.add(responses.GET, PRODUCTS, json=one_page_of(without_id))

    code, out, err = run(["gumroad", "products"], capsys)

    assert (code, out) == (2, "")
    assert err == "ops: gumroad_api_error: Gumroad answered GET /v2/products with a product without an id\n"
