"""Gumroad pings as they really arrive (form or JSON) turned into typed events (``purchases.events``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from chalicelib.errors import InvalidEmail, MalformedPing, UnsupportedMediaType
from chalicelib.media_types import media_type
from chalicelib.purchases.buyer_email import normalise_email
from chalicelib.purchases.events import PingEvent, ProductKeys, SaleEvent, SubscriptionEvent, UnhandledEvent
from chalicelib.strict_json import parse_json

MAX_BODY_BYTES = 256 * 1024
MAX_FIELDS = 2000
# Gumroad's deepest field is a subscription_updated plan's old_plan[tier][id]: three levels. A key (or a JSON
# member) nested deeper than this is not Gumroad speaking.
MAX_FIELD_DEPTH = 5

# Gumroad's resource names (ResourceSubscription::VALID_RESOURCE_NAMES, in its order).
SALE_RESOURCE_NAMES = ("sale", "refund", "dispute", "dispute_won")
SUBSCRIPTION_RESOURCE_NAMES = ("cancellation", "subscription_updated", "subscription_ended", "subscription_restarted")
RESOURCE_NAMES = SALE_RESOURCE_NAMES + SUBSCRIPTION_RESOURCE_NAMES
SALE_RESOURCES = frozenset(SALE_RESOURCE_NAMES)
SUBSCRIPTION_RESOURCES = frozenset(SUBSCRIPTION_RESOURCE_NAMES)

# Keys Gumroad writes *before* copying custom fields to the top level, so a custom field of
# the same name replaces them (see Purchase::PingNotification). The service reads these, so
# a sale whose custom fields shadow one of them cannot be trusted to say whose access it is.
SHADOWABLE_SALE_KEYS = frozenset(
    {
        "email",
        "seller_id",
        "product_id",
        "permalink",
        "product_permalink",
        "short_product_id",
        "sale_id",
        "sale_timestamp",
        "subscription_id",
        "test",
        "is_recurring_charge",
        "full_name",
    }
)

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
# Gumroad's ids, timestamps, booleans and resource names never hold a C0 control character or DEL; a buyer's
# name may hold the tab and line breaks of pasted text, never NUL or the other controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_NAME = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RETRY_COUNT = re.compile(r"^[0-9]{1,9}$")
# Gumroad has existed since 2011: an instant outside these years is not a sale's, and keeping every stored
# timestamp at four-digit years is what makes their text order the time order (see chalicelib.purchases.records).
EARLIEST_YEAR = 1970
LATEST_YEAR = 2099


def parse_ping(content_type: str | None, body: bytes) -> PingEvent:
    """Decode a ping body and build its event; raise MalformedPing or UnsupportedMediaType."""
    fields = decode_body(content_type, body)
    return event_from_fields(fields)


def decode_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    body_type = media_type(content_type)
    if body_type not in ("application/x-www-form-urlencoded", "application/json"):
        raise UnsupportedMediaType("send application/x-www-form-urlencoded (as Gumroad does) or application/json")
    if len(body) > MAX_BODY_BYTES:
        raise MalformedPing(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPing("the body is not valid UTF-8") from exc
    if body_type == "application/json":
        return _decode_json(text)
    return decode_form(text)


def decode_form(text: str) -> dict[str, Any]:
    """Decode Gumroad's bracketed form encoding into nested dicts and lists.

    ``card[visual]=x`` becomes ``{"card": {"visual": "x"}}`` and ``purchase_ids[]=a`` a list.
    Gumroad escapes brackets inside a field's own name before encoding the body, so after
    one decode they still read ``%5B``/``%5D``: they are unescaped per segment here.
    """
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPing("the form body cannot be decoded") from exc
    fields: dict[str, Any] = {}
    for key, value in pairs:
        _insert(fields, key, value)
    return fields


def _insert(fields: dict[str, Any], key: str, value: str) -> None:
    if "[" not in key and "]" not in key:
        _set_once(fields, _unescape(key), value)
        return
    container: Any = fields
    path = _bracketed_path(key)
    for index, part in enumerate(path[:-1]):
        following = path[index + 1]
        if part == "":
            raise MalformedPing("a field name nests inside a list")
        child = container.get(part)
        if child is None:
            child = [] if following == "" else {}
            container[part] = child
        elif not isinstance(child, list | dict) or isinstance(child, list) != (following == ""):
            raise MalformedPing("a field is sent both as a value and as a group")
        container = child
    last = path[-1]
    if last == "":
        if not isinstance(container, list):
            raise MalformedPing("a field is sent both as a value and as a group")
        container.append(value)
    else:
        _set_once(container, last, value)


def _bracketed_path(key: str) -> list[str]:
    """``old_plan[tier][id]`` -> ``["old_plan", "tier", "id"]``; refuses stray brackets and absurd nesting."""
    bracket = key.find("[")
    if bracket <= 0:
        # Gumroad escapes brackets inside names, so a stray one is not Gumroad speaking.
        raise MalformedPing("a field name has unbalanced brackets")
    rest = key[bracket:]
    segments = _SEGMENT.findall(rest)
    if "".join(f"[{segment}]" for segment in segments) != rest:
        raise MalformedPing("a field name has unbalanced brackets")
    if len(segments) >= MAX_FIELD_DEPTH:
        raise MalformedPing(f"a field name nests deeper than {MAX_FIELD_DEPTH} levels")
    return [_unescape(key[:bracket]), *(_unescape(segment) for segment in segments)]


def _set_once(container: dict[str, Any], name: str, value: str) -> None:
    if name in container:
        # Gumroad builds the body from a hash, so a repeated key is not Gumroad speaking.
        raise MalformedPing("a field appears more than once")
    container[name] = value


def _unescape(segment: str) -> str:
    return segment.replace("%5B", "[").replace("%5b", "[").replace("%5D", "]").replace("%5d", "]")


def _decode_json(text: str) -> dict[str, Any]:
    try:
        document = parse_json(text)
    except ValueError as exc:
        raise MalformedPing("the JSON body cannot be decoded") from exc
    if not isinstance(document, dict):
        raise MalformedPing("the JSON body must be an object")
    if _depth(document) > MAX_FIELD_DEPTH:
        raise MalformedPing(f"the JSON body nests deeper than {MAX_FIELD_DEPTH} levels")
    return document


def _depth(document: dict[str, Any]) -> int:
    """How many objects and arrays deep the deepest value sits (``{"a": "x"}`` is 1), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_FIELD_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children)
    return deepest


def event_from_fields(fields: Mapping[str, Any]) -> PingEvent:
    retry_count = _retry_count(fields)
    resource = _optional_text(fields, "resource_name")
    test = _boolean(fields, "test", default=False)
    if resource is None:
        if not test:
            raise MalformedPing("resource_name is missing (only Gumroad's test ping may omit it)")
        return _sale(fields, resource_name=None, retry_count=retry_count)
    if resource in SALE_RESOURCES:
        return _sale(fields, resource_name=resource, retry_count=retry_count)
    if resource in SUBSCRIPTION_RESOURCES:
        return _subscription(fields, resource_name=resource, retry_count=retry_count)
    return UnhandledEvent(resource_name=resource[:64], retry_count=retry_count)


def _sale(fields: Mapping[str, Any], *, resource_name: str | None, retry_count: int) -> SaleEvent:
    custom = fields.get("custom_fields")
    custom_names = set(custom) if isinstance(custom, Mapping) else set()
    email, email_problem = _buyer_email(fields, "email")
    return SaleEvent(
        resource_name=resource_name,
        sale_id=_required_text(fields, "sale_id"),
        seller_id=_optional_text(fields, "seller_id"),
        product=_product(fields),
        email=email,
        email_problem=email_problem,
        full_name=_optional_text(fields, "full_name", refuse=_CONTROL_IN_NAME),
        subscription_id=_optional_text(fields, "subscription_id"),
        sale_timestamp=_timestamp(fields, "sale_timestamp"),
        refunded=_boolean(fields, "refunded", default=False),
        disputed=_boolean(fields, "disputed", default=False),
        dispute_won=_boolean(fields, "dispute_won", default=False),
        test=_boolean(fields, "test", default=False),
        gift=_boolean(fields, "is_gift_receiver_purchase", default=False),
        recurring_charge=_boolean(fields, "is_recurring_charge", default=False),
        retry_count=retry_count,
        shadowed_keys=tuple(sorted(custom_names & SHADOWABLE_SALE_KEYS)),
        gifter_email=_gifter_email(fields),
    )


def _subscription(fields: Mapping[str, Any], *, resource_name: str, retry_count: int) -> SubscriptionEvent:
    occurred_field = {
        "cancellation": "cancelled_at",
        "subscription_ended": "ended_at",
        "subscription_restarted": "restarted_at",
        "subscription_updated": "effective_as_of",
    }[resource_name]
    occurred_at = _timestamp(fields, occurred_field)
    if resource_name in ("subscription_ended", "subscription_restarted") and occurred_at is None:
        raise MalformedPing(f"{occurred_field} is missing")
    raw_ids = fields.get("purchase_ids", [])
    if isinstance(raw_ids, str):
        raw_ids = [raw_ids]
    if not isinstance(raw_ids, list) or not all(isinstance(item, str) for item in raw_ids):
        raise MalformedPing("purchase_ids must be a list of strings")
    if any(_CONTROL.search(item) for item in raw_ids):
        raise MalformedPing(_control_problem("purchase_ids"))
    email, email_problem = _buyer_email(fields, "user_email")
    return SubscriptionEvent(
        resource_name=resource_name,
        subscription_id=_required_text(fields, "subscription_id"),
        product=ProductKeys(product_id=_required_text(fields, "product_id")),
        email=email,
        email_problem=email_problem,
        purchase_ids=tuple(item for item in raw_ids if item),
        occurred_at=occurred_at,
        retry_count=retry_count,
    )


def _product(fields: Mapping[str, Any]) -> ProductKeys:
    keys = ProductKeys(
        product_id=_optional_text(fields, "product_id"),
        permalink=_optional_text(fields, "permalink"),
        short_product_id=_optional_text(fields, "short_product_id"),
        product_permalink=_optional_text(fields, "product_permalink"),
    )
    if not keys.product_id and not any(keys.other_keys):
        raise MalformedPing("product_id is missing")
    return keys


def _buyer_email(fields: Mapping[str, Any], name: str) -> tuple[str, str | None]:
    """The normalised address, or the raw text and the reason it can never be an Auth0 user.

    A missing address is a malformed ping; an address Auth0 would refuse is a well-formed ping
    about a purchase that needs a human (it is answered 200 and logged for review, because any
    retry would fail the same way).
    """
    # No control-character check here: an address Auth0 cannot hold is a purchase for a human (see above).
    raw = _required_text(fields, name, refuse=None)
    try:
        return normalise_email(raw), None
    except InvalidEmail as problem:
        return raw, problem.reason


def _gifter_email(fields: Mapping[str, Any]) -> str | None:
    raw = _optional_text(fields, "gifter_email")
    if raw is None:
        return None
    try:
        return normalise_email(raw)
    except InvalidEmail:
        return None


def _optional_text(fields: Mapping[str, Any], name: str, *, refuse: re.Pattern[str] | None = _CONTROL) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPing(f"{name} must be text")
    text = str(value)
    if refuse is not None and refuse.search(text):
        raise MalformedPing(_control_problem(name))
    return text.strip() or None


def _required_text(fields: Mapping[str, Any], name: str, *, refuse: re.Pattern[str] | None = _CONTROL) -> str:
    value = _optional_text(fields, name, refuse=refuse)
    if value is None:
        raise MalformedPing(f"{name} is missing")
    return value


def _control_problem(name: str) -> str:
    return f"{name} holds a control character (NUL, ...) that Gumroad never sends"


def _boolean(fields: Mapping[str, Any], name: str, *, default: bool) -> bool:
    value = fields.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise MalformedPing(f"{name} must be true or false")


def _timestamp(fields: Mapping[str, Any], name: str) -> str | None:
    """Normalise to ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, four-digit year) so that text order is time order."""
    text = _optional_text(fields, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # Near year 1 or 9999 the shift to UTC leaves datetime's range: OverflowError.
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise MalformedPing(f"{name} is not an ISO 8601 timestamp") from exc
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise MalformedPing(f"{name} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    return format_timestamp(moment)


def format_timestamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` with the year zero-padded (``strftime("%Y")`` does not pad on glibc)."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def _retry_count(fields: Mapping[str, Any]) -> int:
    value = fields.get("retry_count")
    if value is None or value == "":
        return 0
    # Exact types: bool is an int subclass, and floats (1e400, NaN) are no count. Strings are bounded
    # digits, so no conversion can overflow or hit the int-conversion limit.
    if type(value) is int and 0 <= value < 10**9:
        return value
    if isinstance(value, str) and _CONTROL.search(value):
        raise MalformedPing(_control_problem("retry_count"))
    if isinstance(value, str) and _RETRY_COUNT.match(value.strip()):
        return int(value.strip())
    raise MalformedPing("retry_count must be a whole number")
