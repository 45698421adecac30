"""The one strict JSON reader: standard JSON in UTF-8 only, and one exception for everything else."""

from __future__ import annotations

import json

import pytest

from chalicelib.strict_json import parse_json


def test_standard_json_is_read_from_text_or_utf8_bytes() -> None:
    assert parse_json('{"token": "abc", "n": [1, 2.5, null, true]}') == {"token": "abc", "n": [1, 2.5, None, True]}
    assert parse_json('{"name": "Zoë"}'.encode()) == {"name": "Zoë"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_the_constants_python_accepts_but_json_lacks_are_refused(constant: str) -> None:
    with pytest.raises(ValueError, match="is not JSON"):
        parse_json(f'{{"exp": {constant}}}')


def test_nesting_deep_enough_to_exhaust_the_stack_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000)


def test_an_integer_past_pythons_conversion_limit_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="integer string conversion"):
        parse_json("1" * 5_000)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_bytes_in_another_unicode_encoding_are_refused(encoding: str) -> None:
    with pytest.raises(UnicodeDecodeError):
        parse_json('{"token": "abc"}'.encode(encoding))


@pytest.mark.parametrize("document", ["", "{", "{'a': 1}", '{"a": 1,}', "undefined"])
def test_what_is_not_json_is_a_value_error(document: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        parse_json(document)
