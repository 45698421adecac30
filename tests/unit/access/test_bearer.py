"""RFC 6750 section 2.1: which Authorization headers carry a Bearer token, and which are refused; /verify's body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.access.bearer import MAX_VERIFY_BODY_BYTES, extract_bearer_token, token_from_body, verify_bearer
from chalicelib.access.verifier import AccessTokenVerifier
from chalicelib.errors import InvalidRequest, InvalidToken, NoCredentials
from tests.tokens import SUBJECT, claims, rsa_key, sign

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def token(**overrides: Any) -> str:
    return sign(rsa_key("k1"), claims(**overrides))


def test_a_bearer_header_yields_its_token() -> None:
    assert extract_bearer_token([f"Bearer {TOKEN}"]) == TOKEN


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_scheme_is_case_insensitive(scheme: str) -> None:
    assert extract_bearer_token([f"{scheme} {TOKEN}"]) == TOKEN


def test_several_spaces_after_the_scheme_and_surrounding_whitespace_are_tolerated() -> None:
    assert extract_bearer_token([f"  Bearer   {TOKEN} "]) == TOKEN


def test_b64token_characters_and_trailing_padding_are_read_as_sent() -> None:
    # The header grammar allows them; the verifier, not the parser, refuses such tokens.
    assert extract_bearer_token(["Bearer ab~c+d/e.f-g_h=="]) == "ab~c+d/e.f-g_h=="


def test_no_header_means_no_credentials() -> None:
    with pytest.raises(NoCredentials):
        extract_bearer_token([])


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Digest username=x", "Token abc"])
def test_another_scheme_means_no_credentials(value: str) -> None:
    with pytest.raises(NoCredentials):
        extract_bearer_token([value])


def test_several_credentials_of_other_schemes_mean_no_credentials() -> None:
    with pytest.raises(NoCredentials):
        extract_bearer_token(["Basic dXNlcjpwYXNz, Digest username=x"])


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "Bearer",
        "Bearer   ",
        "bearer\t",
    ],
    ids=["empty", "blank", "bare-scheme", "scheme-and-spaces", "scheme-and-tab"],
)
def test_an_empty_header_or_empty_bearer_is_an_invalid_request(value: str) -> None:
    with pytest.raises(InvalidRequest):
        extract_bearer_token([value])


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {TOKEN} {TOKEN}",
        f"Bearer {TOKEN}, Bearer {TOKEN}",
        f"Basic dXNlcjpwYXNz, Bearer {TOKEN}",
        f"Bearer {TOKEN},",
    ],
    ids=["two-tokens", "two-bearers", "basic-and-bearer", "trailing-comma"],
)
def test_more_than_one_credential_is_an_invalid_request(value: str) -> None:
    with pytest.raises(InvalidRequest):
        extract_bearer_token([value])


def test_two_authorization_headers_are_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        extract_bearer_token([f"Bearer {TOKEN}", f"Bearer {TOKEN}"])


@pytest.mark.parametrize(
    "value",
    ['Bearer "quoted"', "Bearer tok\u00e9n", "Bearer a=b", "Bearer ab\\cd", "Bea(rer x"],
    ids=["quotes", "non-ascii", "inner-equals", "backslash", "bad-scheme"],
)
def test_characters_outside_the_b64token_grammar_are_an_invalid_request(value: str) -> None:
    with pytest.raises(InvalidRequest):
        extract_bearer_token([value])


def test_a_header_plus_an_access_token_query_parameter_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        extract_bearer_token([f"Bearer {TOKEN}"], query_parameters={"access_token", "page"})


def test_a_token_in_the_query_string_alone_is_not_accepted() -> None:
    with pytest.raises(NoCredentials):
        extract_bearer_token([], query_parameters={"access_token"})


def test_other_query_parameters_do_not_matter() -> None:
    assert extract_bearer_token([f"Bearer {TOKEN}"], query_parameters={"page"}) == TOKEN


def test_error_descriptions_never_echo_the_header() -> None:
    secret = "s3cr3t-token-value"
    for value in (f"Bearer {secret} x", f"Bearer {secret}\u00e9", f"Bearer {secret}, Bearer y"):
        with pytest.raises(InvalidRequest) as caught:
            extract_bearer_token([value])
        assert secret not in caught.value.message


def test_a_bearer_token_becomes_its_principal(verifier: AccessTokenVerifier) -> None:
    principal = verify_bearer([f"Bearer {token()}"], set(), verifier=verifier)

    assert principal.subject == SUBJECT


@pytest.mark.parametrize(
    ("authorization", "query", "refusal"),
    [
        ([], set(), NoCredentials),
        (["Basic abc"], set(), NoCredentials),
        (["Bearer a", "Bearer b"], set(), InvalidRequest),
        (["Bearer abc.def.ghi"], {"access_token"}, InvalidRequest),
        (["Bearer abc.def.ghi"], set(), InvalidToken),
    ],
    ids=["none", "other-scheme", "two-headers", "header-and-query", "not-a-token"],
)
def test_what_is_not_one_good_bearer_token_is_refused_with_its_reason(
    verifier: AccessTokenVerifier, authorization: list[str], query: set[str], refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        verify_bearer(authorization, query, verifier=verifier)


def test_verify_reads_the_token_from_a_json_body_only() -> None:
    assert token_from_body(json.dumps({"token": "abc"}).encode(), set()) == "abc"
    with pytest.raises(InvalidRequest, match="not in the URL"):
        token_from_body(json.dumps({"token": "abc"}).encode(), {"access_token"})


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"token": ""}',
        b'{"token": 5}',
        b'{"token": "a", "other": 1}',
        b"{",
        b" " * (MAX_VERIFY_BODY_BYTES + 1),
    ],
)
def test_a_verify_body_of_another_shape_is_an_invalid_request(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        token_from_body(body, set())
