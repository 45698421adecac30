"""`ops gumroad whoami` and `ops gumroad products`: the seller id the service must be deployed with, and the
product ids (with names and prices) the catalogue needs, as Gumroad's API sees the token's account."""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ConfigurationError, GumroadApiError

if TYPE_CHECKING:
    from chalicelib.catalogue import CourseCatalogue
    from chalicelib.gumroad_api.client import GumroadApi
    from ops.settings import Settings

# What a new catalogue entry holds until the course's role exists in Auth0 (make package refuses it).
ROLE_PLACEHOLDER = "rol_REPLACE_WITH_THE_AUTH0_ROLE_ID"
_SLUG_MAX = 64


def add_gumroad(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gumroad = commands.add_parser("gumroad", help="your Gumroad account, as the API token sees it")
    gumroad_commands = gumroad.add_subparsers(dest="gumroad_command", required=True)
    whoami = gumroad_commands.add_parser(
        "whoami",
        help="print your seller id (GUMROAD_SELLER_ID) from GET /v2/user; compare it with the deployment's",
    )
    whoami.set_defaults(run=run_whoami)
    products = gumroad_commands.add_parser(
        "products",
        help="list your products' ids, names and prices (GET /v2/products), and catalogue entries for those the "
        "catalogue lacks",
        description="Every product of the token's account, newest first: the product id (what pings carry as "
        "product_id, and what the catalogue's gumroad_products lists), the price, whether it is published, and "
        "the course it opens. Below, one catalogue entry per product the catalogue does not list yet, ready to "
        'paste into its "courses" list. Read-only.',
    )
    products.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    products.set_defaults(run=run_products)


def run_whoami(args: argparse.Namespace, settings: Settings) -> int:
    code, text = report(gumroad_api(settings).user(), configured=settings.seller_id())
    print(text)
    return code


def gumroad_api(settings: Settings) -> GumroadApi:
    """Gumroad's API v2 with the operator's GUMROAD_ACCESS_TOKEN (the deployed functions read it from their secret)."""
    from chalicelib.gumroad_api.client import GumroadApi

    return GumroadApi(access_token=settings.gumroad_access_token())


def seller_id_of(user: Mapping[str, Any]) -> str:
    """``user_id`` of ``GET /v2/user``: the ping's ``seller_id`` (both are ``ObfuscateIds.encrypt(id)``).

    Not the user's ``id``, which is the account's external id and appears in no ping.
    """
    value = user.get("user_id")
    if not isinstance(value, str) or not value:
        raise GumroadApiError("Gumroad answered GET /v2/user without a user_id")
    return value


def report(user: Mapping[str, Any], *, configured: str | None) -> tuple[int, str]:
    """``(exit code, text)``: the seller id, and whether the deployment's GUMROAD_SELLER_ID agrees."""
    seller_id = seller_id_of(user)
    name = user.get("name") or "-"
    lines = [
        f"Gumroad account: {name} ({user.get('url') or 'no profile URL'})",
        f"GUMROAD_SELLER_ID={seller_id}",
    ]
    if configured is None:
        lines.append(f"deploy with --parameter-overrides GumroadSellerId={seller_id} (docs/creator-guide.md, step 7)")
        return 0, "\n".join(lines)
    if configured == seller_id:
        lines.append("the deployment's GUMROAD_SELLER_ID is this account's: its pings are accepted")
        return 0, "\n".join(lines)
    lines.append(
        f"MISMATCH: the deployment's GUMROAD_SELLER_ID is {configured}: every ping of this account is refused "
        f"(403). Update the stack with GumroadSellerId={seller_id}"
    )
    return 1, "\n".join(lines)


def run_products(args: argparse.Namespace, settings: Settings) -> int:
    listed = [Product.from_json(document) for document in gumroad_api(settings).products()]
    catalogue, note = _catalogue()
    rows = catalogue_rows(listed, catalogue)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    else:
        print(products_text(rows, catalogue_file=settings.catalogue_file(), note=note))
    return 0


def _catalogue() -> tuple[CourseCatalogue | None, str | None]:
    """The deployment's catalogue, or None and why: a broken catalogue must not hide the product ids."""
    from chalicelib import wiring

    try:
        return wiring.get_catalogue(), None
    except ConfigurationError as error:
        return None, error.message


@dataclass(frozen=True)
class Product:
    """One product of ``GET /v2/products`` (``Product::AsJson#as_json_for_api``), as far as the catalogue cares."""

    product_id: str
    name: str
    price_cents: int
    currency: str
    formatted_price: str
    published: bool
    url: str | None

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Product:
        product_id = document.get("id")
        if not isinstance(product_id, str) or not product_id:
            raise GumroadApiError("Gumroad answered GET /v2/products with a product without an id")
        price = document.get("price")
        return cls(
            product_id=product_id,
            name=_printable(str(document.get("name") or "")),
            price_cents=price if isinstance(price, int) else 0,
            currency=str(document.get("currency") or ""),
            formatted_price=_printable(str(document.get("formatted_price") or "")),
            published=document.get("published") is True,
            url=document.get("short_url") if isinstance(document.get("short_url"), str) else None,
        )


@dataclass(frozen=True)
class ProductRow:
    """A product and where it stands in the catalogue: the course it opens, or the entry it would need."""

    product: Product
    course: str | None
    entry: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        product = self.product
        return {
            "product_id": product.product_id,
            "name": product.name,
            "price_cents": product.price_cents,
            "currency": product.currency,
            "formatted_price": product.formatted_price,
            "published": product.published,
            "url": product.url,
            "course": self.course,
            "catalogue_entry": self.entry,
        }


def catalogue_rows(products: Sequence[Product], catalogue: CourseCatalogue | None) -> list[ProductRow]:
    """Each product with its course, or with a catalogue entry (a slug no course or other entry has)."""
    taken = {course.slug for course in catalogue} if catalogue is not None else set()
    rows = []
    for product in products:
        course = catalogue.match_product(product.product_id) if catalogue is not None else None
        if course is not None:
            rows.append(ProductRow(product, course.slug, None))
            continue
        slug = unique_slug(slug_for(product.name), taken)
        taken.add(slug)
        entry = {
            "slug": slug,
            "title": product.name or slug,
            "role_id": ROLE_PLACEHOLDER,
            "permission": f"read:course:{slug}",
            "gumroad_products": [product.product_id],
        }
        rows.append(ProductRow(product, None, entry))
    return rows


def slug_for(name: str) -> str:
    """``"Serverless Handbook: the course"`` -> ``serverless-handbook-the-course`` (the catalogue's slug rule)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:_SLUG_MAX].rstrip("-") or "course"


def unique_slug(slug: str, taken: set[str]) -> str:
    if slug not in taken:
        return slug
    number = 2
    while f"{slug[: _SLUG_MAX - 1 - len(str(number))]}-{number}" in taken:
        number += 1
    return f"{slug[: _SLUG_MAX - 1 - len(str(number))]}-{number}"


def products_text(rows: Sequence[ProductRow], *, catalogue_file: str, note: str | None = None) -> str:
    if not rows:
        return "no products: Gumroad lists none for this account (GET /v2/products)"
    table = [("product id", "price", "status", "name", "course")]
    for row in rows:
        product = row.product
        status = "published" if product.published else "unpublished"
        table.append((product.product_id, product.formatted_price, status, product.name, row.course or "-"))
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]) - 1)]
    lines = [f"{len(rows)} Gumroad product(s), newest first:", ""]
    for line in table:
        lines.append("".join(cell.ljust(width + 2) for cell, width in zip(line, widths, strict=False)) + line[-1])
    if note is not None:
        lines += ["", f"the catalogue could not be read, so no product is matched to a course: {note}"]
    entries = [row.entry for row in rows if row.entry is not None]
    if entries:
        lines += [
            "",
            f'{len(entries)} product(s) open no course. A catalogue entry for each, to add to the "courses" list of',
            f"{catalogue_file} (change the slug and title as you like; one course may list several products):",
            "",
        ]
        lines += [json.dumps(entry, ensure_ascii=False) + "," for entry in entries]
        lines[-1] = lines[-1].rstrip(",")
    return "\n".join(lines)


def _printable(text: str) -> str:
    """The seller's own text, without control characters that would break a terminal line."""
    return "".join(character for character in text if character.isprintable())
