"""RFC 6750 section 2.1: which Authorization headers carry a Bearer token, and which are refused."""

from __future__ import annotations

import pytest

from chalicelib.access.bearer import extract_bearer_token
from chalicelib.errors import InvalidRequest, NoCredentials

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


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
