"""The verifier accepts exactly the tokens the issuer made for this API, and nothing else.

Every token here is really signed (throwaway RSA/EC keys, HS256 for confusion attacks);
the JWKS comes from an injectable endpoint that counts fetches; time is a fake clock.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.access.jwks import JwksCache, SigningKey
from chalicelib.access.verifier import AccessTokenVerifier, VerifiedToken
from chalicelib.errors import (
    ForbiddenHeader,
    InvalidClaim,
    InvalidSignature,
    InvalidToken,
    KeyAlgorithmMismatch,
    MalformedToken,
    TokenExpired,
    TokenNotYetValid,
    TokenTooLarge,
    UnknownSigningKey,
    UnsupportedAlgorithm,
    UnsupportedTokenType,
)
from tests.tokens import (
    AUDIENCE,
    ISSUER,
    JWKS_URL,
    SUBJECT,
    FakeClock,
    FakeJwksEndpoint,
    TestKey,
    b64url,
    claims,
    ec_key,
    hs256_token,
    rsa_key,
    sign,
    sign_raw,
    unsigned_token,
)

START = 1_760_000_000.0
LEEWAY = 5
MAX_AGE = 600.0
COOLDOWN = 15.0


@dataclass
class Issuer:
    """A fake tenant: its JWKS endpoint, the clock everyone shares, and the verifier."""

    clock: FakeClock
    endpoint: FakeJwksEndpoint
    keys: JwksCache
    verifier: AccessTokenVerifier

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return claims(now=self.clock.now, **overrides)


def make_issuer(
    *published: TestKey,
    algorithms: tuple[str, ...] = ("RS256",),
    cache_size: int = 1024,
    max_token_bytes: int = 8192,
) -> Issuer:
    clock = FakeClock(START)
    endpoint = FakeJwksEndpoint()
    endpoint.publish(*(published or (rsa_key("k1"),)))
    keys = JwksCache(
        JWKS_URL,
        algorithms=algorithms,
        fetcher=endpoint,
        clock=clock,
        cooldown_seconds=COOLDOWN,
        max_age_seconds=MAX_AGE,
    )
    verifier = AccessTokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        keys=keys,
        algorithms=algorithms,
        leeway_seconds=LEEWAY,
        cache_size=cache_size,
        max_token_bytes=max_token_bytes,
        clock=clock,
    )
    return Issuer(clock=clock, endpoint=endpoint, keys=keys, verifier=verifier)


@pytest.fixture
def issuer() -> Issuer:
    return make_issuer()


def raw_payload(issuer: Issuer, **raw_claims: str) -> bytes:
    """Valid claims as JSON, with some values replaced by raw JSON text (1e400, NaN, ...)."""
    document = issuer.claims()
    for name in raw_claims:
        document[name] = f"@@{name}@@"
    text = json.dumps(document)
    for name, raw in raw_claims.items():
        text = text.replace(f'"@@{name}@@"', raw)
    return text.encode()


HEADER = {"alg": "RS256", "kid": "k1", "typ": "JWT"}

# --- what is accepted ---------------------------------------------------------------------------


def test_a_valid_rs256_token_is_accepted_with_its_subject_and_permissions(issuer: Issuer) -> None:
    verified = issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims()))
    assert verified.subject == SUBJECT
    assert verified.key_id == "k1"
    assert verified.expires_at == int(START) + 3600
    assert verified.grants("read:course:pencil-icons")
    assert not verified.grants("read:course:pro-membership")


def test_an_audience_given_as_a_plain_string_is_accepted(issuer: Issuer) -> None:
    verified = issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims(aud=AUDIENCE)))
    assert verified.subject == SUBJECT


def test_an_audience_array_that_contains_the_api_is_accepted(issuer: Issuer) -> None:
    token = sign(rsa_key("k1"), issuer.claims(aud=["https://other.example", AUDIENCE]))
    assert issuer.verifier.verify(token).subject == SUBJECT


def test_an_es256_token_is_accepted_when_es256_is_allowed() -> None:
    issuer = make_issuer(ec_key("e1"), rsa_key("k1"), algorithms=("RS256", "ES256"))
    assert issuer.verifier.verify(sign(ec_key("e1"), issuer.claims())).key_id == "e1"
    assert issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims())).key_id == "k1"


@pytest.mark.parametrize("typ", ["", "JWT", "jwt", "at+jwt", "application/at+jwt"])
def test_typ_may_be_absent_jwt_or_at_jwt(issuer: Issuer, typ: str) -> None:
    token = sign(rsa_key("k1"), issuer.claims(), headers={"typ": typ})
    assert issuer.verifier.verify(token).subject == SUBJECT


def test_a_token_expired_within_the_leeway_is_still_accepted(issuer: Issuer) -> None:
    token = sign(rsa_key("k1"), issuer.claims(exp=int(START) - LEEWAY + 1))
    assert issuer.verifier.verify(token).subject == SUBJECT


def test_iat_and_nbf_slightly_ahead_of_our_clock_are_accepted_within_the_leeway(
    issuer: Issuer,
) -> None:
    ahead = int(START) + LEEWAY - 1
    token = sign(rsa_key("k1"), issuer.claims(iat=ahead, nbf=ahead))
    assert issuer.verifier.verify(token).subject == SUBJECT


# --- claims ---------------------------------------------------------------------------------------

CLAIM_REJECTIONS: list[tuple[str, dict[str, Any], type[InvalidToken]]] = [
    ("expired", {"exp": int(START) - LEEWAY}, TokenExpired),
    ("expired-long-ago", {"exp": 1, "iat": 0}, TokenExpired),
    ("iat-in-the-future", {"iat": int(START) + LEEWAY + 1}, TokenNotYetValid),
    ("nbf-in-the-future", {"nbf": int(START) + LEEWAY + 1}, TokenNotYetValid),
    ("exp-missing", {"exp": None}, InvalidClaim),
    ("iat-missing", {"iat": None}, InvalidClaim),
    ("iss-missing", {"iss": None}, InvalidClaim),
    ("iss-other-tenant", {"iss": "https://other.auth0.com/"}, InvalidClaim),
    ("iss-without-trailing-slash", {"iss": ISSUER.rstrip("/")}, InvalidClaim),
    ("iss-not-a-string", {"iss": [ISSUER]}, InvalidClaim),
    ("aud-missing", {"aud": None}, InvalidClaim),
    ("aud-other-api", {"aud": "https://other.example/api"}, InvalidClaim),
    ("id-token-audience", {"aud": "spa-client-id"}, InvalidClaim),
    ("aud-array-without-api", {"aud": ["https://a.example", "https://b.example"]}, InvalidClaim),
    ("aud-empty-array", {"aud": []}, InvalidClaim),
    ("aud-array-with-a-number", {"aud": [AUDIENCE, 5]}, InvalidClaim),
    ("aud-object", {"aud": {"aud": AUDIENCE}}, InvalidClaim),
    ("aud-differs-in-case", {"aud": AUDIENCE.upper()}, InvalidClaim),
    # Another API of the same tenant whose identifier starts, ends or contains this one's: compared whole.
    ("aud-another-api-that-extends-this-one", {"aud": AUDIENCE + "-staging"}, InvalidClaim),
    ("aud-another-api-inside-which-this-one-is", {"aud": "https://x.example/?next=" + AUDIENCE}, InvalidClaim),
    ("aud-a-prefix-of-this-api", {"aud": AUDIENCE[:-1]}, InvalidClaim),
    ("aud-array-with-an-api-that-extends-this-one", {"aud": [AUDIENCE + "-staging"]}, InvalidClaim),
    ("aud-array-of-one-string-holding-this-api", {"aud": [f"{AUDIENCE} https://other.example"]}, InvalidClaim),
    ("sub-missing", {"sub": None}, InvalidClaim),
    ("sub-empty", {"sub": ""}, InvalidClaim),
    ("sub-number", {"sub": 42}, InvalidClaim),
    ("exp-string", {"exp": "2099-01-01"}, InvalidClaim),
    ("exp-bool", {"exp": True}, InvalidClaim),
    ("exp-list", {"exp": [4102444800]}, InvalidClaim),
    ("iat-string", {"iat": "0"}, InvalidClaim),
    ("nbf-object", {"nbf": {}}, InvalidClaim),
    ("jti-number", {"jti": 123}, InvalidClaim),
    ("jti-list", {"jti": ["a"]}, InvalidClaim),
    ("client-id-number", {"client_id": 7}, InvalidClaim),
    ("azp-object", {"azp": {}}, InvalidClaim),
    ("scope-list", {"scope": ["read:course:pencil-icons"]}, InvalidClaim),
    ("permissions-string", {"permissions": "read:course:pencil-icons"}, InvalidClaim),
    ("permissions-with-a-number", {"permissions": ["read:course:pencil-icons", 5]}, InvalidClaim),
    ("acr-number", {"acr": 1}, InvalidClaim),
    ("amr-string", {"amr": "pwd"}, InvalidClaim),
    ("groups-object", {"groups": {"a": 1}}, InvalidClaim),
    ("auth-time-string", {"auth_time": "yesterday"}, InvalidClaim),
]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [(case[1], case[2]) for case in CLAIM_REJECTIONS],
    ids=[case[0] for case in CLAIM_REJECTIONS],
)
def test_a_token_with_a_bad_claim_is_rejected(
    issuer: Issuer, overrides: dict[str, Any], expected: type[InvalidToken]
) -> None:
    token = sign(rsa_key("k1"), issuer.claims(**overrides))
    with pytest.raises(expected):
        issuer.verifier.verify(token)


@pytest.mark.parametrize(
    "raw_claims",
    [
        {"exp": "null"},
        {"exp": "1e400"},
        {"exp": "-1e400"},
        {"exp": "NaN"},
        {"exp": "Infinity"},
        {"iat": "1e400"},
        {"nbf": "NaN"},
        {"iat": "1" + "0" * 400},
        {"exp": "-" + "9" * 400},
        {"nbf": "1" + "0" * 400},
    ],
    ids=[
        "exp-null",
        "exp-inf",
        "exp-minus-inf",
        "exp-nan",
        "exp-infinity-literal",
        "iat-inf",
        "nbf-nan",
        "iat-huge-int",
        "exp-huge-negative-int",
        "nbf-huge-int",
    ],
)
def test_claims_python_cannot_compare_are_a_401_never_a_crash(issuer: Issuer, raw_claims: dict[str, str]) -> None:
    # PyJWT itself raises TypeError/OverflowError for some of these.
    token = sign_raw(rsa_key("k1"), raw_payload(issuer, **raw_claims), HEADER)
    with pytest.raises(InvalidToken):
        issuer.verifier.verify(token)


def test_a_payload_that_is_not_a_json_object_is_malformed(issuer: Issuer) -> None:
    token = sign_raw(rsa_key("k1"), b'["iss", "aud"]', HEADER)
    with pytest.raises(MalformedToken):
        issuer.verifier.verify(token)


# --- header and algorithm -------------------------------------------------------------------------


def test_alg_none_is_rejected_with_or_without_a_signature_segment(issuer: Issuer) -> None:
    token = unsigned_token(issuer.claims(), {"alg": "none", "kid": "k1", "typ": "JWT"})
    with pytest.raises(MalformedToken):
        issuer.verifier.verify(token)  # the empty third segment fails the strict format
    with pytest.raises(UnsupportedAlgorithm):
        issuer.verifier.verify(token + b64url(b"anything"))


def test_hs256_keyed_with_the_public_key_is_rejected(issuer: Issuer) -> None:
    # The RS/HS confusion attack: anyone can HMAC with the published public key.
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    for secret in (rsa_key("k1").public_pem(), json.dumps(rsa_key("k1").public_jwk).encode()):
        with pytest.raises(UnsupportedAlgorithm):
            issuer.verifier.verify(hs256_token(secret, issuer.claims(), header))


def test_hs256_is_rejected_even_when_the_jwks_publishes_a_symmetric_key() -> None:
    secret = b"shared-secret-that-should-never-be-published"
    oct_key = {"kty": "oct", "kid": "k1", "k": b64url(secret), "alg": "HS256"}
    issuer = make_issuer(rsa_key("k2"))
    issuer.endpoint.document = {"keys": [oct_key, rsa_key("k2").public_jwk]}
    token = hs256_token(secret, issuer.claims(), {"alg": "HS256", "kid": "k1"})
    with pytest.raises(UnsupportedAlgorithm):
        issuer.verifier.verify(token)


@pytest.mark.parametrize("algorithms", [("HS256",), ("RS256", "HS512"), ("none",), ()])
def test_the_verifier_refuses_symmetric_or_no_algorithms(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        AccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE, keys=make_issuer().keys, algorithms=algorithms)


def test_an_algorithm_outside_the_allow_list_is_rejected(issuer: Issuer) -> None:
    key = rsa_key("k1")
    token = sign(key, issuer.claims(), algorithm="RS384")
    with pytest.raises(UnsupportedAlgorithm):
        issuer.verifier.verify(token)


def test_a_token_alg_the_jwk_does_not_allow_is_rejected() -> None:
    issuer = make_issuer(rsa_key("k1"), algorithms=("RS256", "PS256"))
    token = sign(rsa_key("k1"), issuer.claims(), algorithm="PS256")  # the JWK says RS256
    with pytest.raises(KeyAlgorithmMismatch):
        issuer.verifier.verify(token)


def test_an_ec_token_naming_an_rsa_key_is_rejected() -> None:
    issuer = make_issuer(rsa_key("k1"), algorithms=("RS256", "ES256"))
    token = sign(ec_key("e1"), issuer.claims(), kid="k1")
    with pytest.raises(KeyAlgorithmMismatch):
        issuer.verifier.verify(token)


@pytest.mark.parametrize("typ", ["JWS", "id+jwt", "dpop+jwt", "application/json", 1, None])
def test_any_other_typ_is_rejected(issuer: Issuer, typ: Any) -> None:
    header = {**HEADER, "typ": typ}
    token = sign_raw(rsa_key("k1"), json.dumps(issuer.claims()).encode(), header)
    if typ is None:
        # PyJWS drops a falsy typ; write the null by hand to keep the case honest.
        token = _with_header(token, {**HEADER, "typ": None})
    with pytest.raises(UnsupportedTokenType):
        issuer.verifier.verify(token)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("jwk", "PUBLIC_JWK"),
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("x5c", ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
    ],
)
def test_header_key_sources_are_rejected_and_never_fetched(issuer: Issuer, parameter: str, value: Any) -> None:
    if value == "PUBLIC_JWK":
        value = rsa_key("attacker").public_jwk
    token = sign(rsa_key("attacker"), issuer.claims(), kid="k1", headers={parameter: value})
    with pytest.raises(ForbiddenHeader):
        issuer.verifier.verify(token)
    assert issuer.endpoint.calls == []


@pytest.mark.parametrize("crit", [["exp"], ["b64"], ["https://example.com/ext"], [], "exp"])
def test_a_crit_header_is_rejected(issuer: Issuer, crit: Any) -> None:
    token = _with_header(sign(rsa_key("k1"), issuer.claims()), {**HEADER, "crit": crit, "exp": 1})
    with pytest.raises(ForbiddenHeader):
        issuer.verifier.verify(token)


@pytest.mark.parametrize("kid", [None, 7, "", "k" * 300, ["k1"]])
def test_a_missing_or_unusable_kid_is_malformed(issuer: Issuer, kid: Any) -> None:
    header = {name: value for name, value in {**HEADER, "kid": kid}.items() if value is not None}
    token = _with_header(sign(rsa_key("k1"), issuer.claims()), header)
    with pytest.raises(MalformedToken):
        issuer.verifier.verify(token)


def test_an_unknown_kid_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(UnknownSigningKey):
        issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims(), kid="not-published"))


# --- signature --------------------------------------------------------------------------------


def test_a_token_signed_by_another_key_under_a_published_kid_is_rejected(issuer: Issuer) -> None:
    forged = sign(rsa_key("attacker"), issuer.claims(), kid="k1")
    with pytest.raises(InvalidSignature):
        issuer.verifier.verify(forged)


def test_a_changed_payload_breaks_the_signature(issuer: Issuer) -> None:
    header, _, signature = sign(rsa_key("k1"), issuer.claims()).split(".")
    richer = b64url(json.dumps(issuer.claims(permissions=["read:course:pro-membership"])).encode())
    with pytest.raises(InvalidSignature):
        issuer.verifier.verify(f"{header}.{richer}.{signature}")


def test_a_signature_with_non_canonical_trailing_bits_is_rejected(issuer: Issuer) -> None:
    token = sign(rsa_key("k1"), issuer.claims())
    # 256 signature bytes take 342 characters; the last one carries 4 unused bits, so
    # flipping its lowest bit yields a different string that decodes to the same bytes.
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    sibling = alphabet[alphabet.index(token[-1]) ^ 1]
    twin = token[:-1] + sibling
    signature, twin_signature = token.rsplit(".", 1)[1], twin.rsplit(".", 1)[1]
    assert base64.urlsafe_b64decode(signature + "==") == base64.urlsafe_b64decode(twin_signature + "==")
    with pytest.raises(MalformedToken):
        issuer.verifier.verify(twin)


# --- encoding, before any decoding ------------------------------------------------------------


@dataclass
class CountingKeys:
    """Wraps the key source to prove a token was refused before a key was even looked up."""

    inner: JwksCache
    lookups: int = 0

    def get_key(self, kid: str) -> SigningKey:
        self.lookups += 1
        return self.inner.get_key(kid)


def counting_verifier(issuer: Issuer) -> tuple[AccessTokenVerifier, CountingKeys]:
    keys = CountingKeys(issuer.keys)
    verifier = AccessTokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, keys=keys, leeway_seconds=LEEWAY, clock=issuer.clock
    )
    return verifier, keys


def test_an_oversized_token_is_refused_before_any_decoding(issuer: Issuer) -> None:
    verifier, keys = counting_verifier(issuer)
    padded = issuer.claims(padding="x" * 9000)
    with pytest.raises(TokenTooLarge):
        verifier.verify(sign(rsa_key("k1"), padded))
    assert keys.lookups == 0
    assert issuer.endpoint.calls == []


def _encoding_mutations(token: str) -> dict[str, str]:
    header, payload, signature = token.split(".")
    return {
        "padding": f"{header}==.{payload}.{signature}",
        "standard-alphabet": f"{header}.{payload}.{signature[:-4]}+/+/",
        "two-segments": f"{header}.{payload}",
        "four-segments": f"{token}.{signature}",
        "jwe-five-segments": f"{header}.{payload}.{payload}.{payload}.{signature}",
        "empty-signature": f"{header}.{payload}.",
        "empty-header": f".{payload}.{signature}",
        "leading-space": f" {token}",
        "trailing-newline": f"{token}\n",
        "non-ascii": f"{header}.{payload}\u00e9.{signature}",
        "impossible-length": f"{header}.{payload}.{signature}A",
        "header-not-json": f"{b64url(b'not json')}.{payload}.{signature}",
        "header-array": f"{b64url(b'[1,2]')}.{payload}.{signature}",
        "empty-string": "",
    }


@pytest.mark.parametrize("mutation", list(_encoding_mutations("a.b.c")))
def test_lenient_encodings_are_rejected(issuer: Issuer, mutation: str) -> None:
    token = _encoding_mutations(sign(rsa_key("k1"), issuer.claims()))[mutation]
    with pytest.raises(InvalidToken):
        issuer.verifier.verify(token)


@pytest.mark.parametrize("value", [None, b"a.b.c", 123, ["a.b.c"]])
def test_a_token_that_is_not_a_string_is_malformed(issuer: Issuer, value: Any) -> None:
    with pytest.raises(MalformedToken):
        issuer.verifier.verify(value)


def test_error_messages_never_echo_the_token(issuer: Issuer) -> None:
    bad_tokens = [
        sign(rsa_key("k1"), issuer.claims(exp=1, iat=0)),
        sign(rsa_key("attacker"), issuer.claims(), kid="k1"),
        sign(rsa_key("k1"), issuer.claims(aud="other")),
        *list(_encoding_mutations(sign(rsa_key("k1"), issuer.claims())).values())[:-1],
    ]
    for token in bad_tokens:
        with pytest.raises(InvalidToken) as caught:
            issuer.verifier.verify(token)
        for segment in token.strip().split("."):
            if len(segment) > 8:
                assert segment not in caught.value.message


# --- the verified-token cache -----------------------------------------------------------------


def test_a_repeated_token_is_served_from_the_cache(issuer: Issuer) -> None:
    token = sign(rsa_key("k1"), issuer.claims())
    first = issuer.verifier.verify(token)
    assert issuer.verifier.verify(token) is first
    assert issuer.verifier.remembered_tokens == 1


def test_a_cached_token_expires_on_time(issuer: Issuer) -> None:
    token = sign(rsa_key("k1"), issuer.claims())
    issuer.verifier.verify(token)
    issuer.clock.advance(3600 + LEEWAY - 1)
    issuer.endpoint.failing = True  # no refresh needed to decide this
    assert issuer.verifier.verify(token).subject == SUBJECT
    issuer.clock.advance(1)
    with pytest.raises(TokenExpired):
        issuer.verifier.verify(token)
    assert issuer.verifier.remembered_tokens == 0


def test_a_cached_token_stops_working_when_its_key_leaves_the_jwks(issuer: Issuer) -> None:
    issuer.endpoint.publish(rsa_key("k1"), rsa_key("k2"))
    token = sign(rsa_key("k1"), issuer.claims())
    issuer.verifier.verify(token)
    issuer.endpoint.publish(rsa_key("k2"))
    issuer.clock.advance(MAX_AGE)
    with pytest.raises(UnknownSigningKey):
        issuer.verifier.verify(token)
    assert issuer.verifier.remembered_tokens == 0


def test_a_cached_token_is_checked_again_when_its_kid_gets_new_key_material(
    issuer: Issuer,
) -> None:
    token = sign(rsa_key("k1"), issuer.claims())
    issuer.verifier.verify(token)
    replacement = TestKey(kid="k1", algorithm="RS256", private_key=rsa_key("other").private_key)
    issuer.endpoint.publish(replacement)
    issuer.clock.advance(MAX_AGE)
    with pytest.raises(InvalidSignature):
        issuer.verifier.verify(token)


def test_the_cache_never_holds_more_than_its_size() -> None:
    issuer = make_issuer(cache_size=3)
    for index in range(10):
        issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims(jti=f"t{index}")))
        assert issuer.verifier.remembered_tokens <= 3
    assert issuer.verifier.remembered_tokens == 3


def test_a_cache_size_of_zero_verifies_every_time() -> None:
    issuer = make_issuer(cache_size=0)
    token = sign(rsa_key("k1"), issuer.claims())
    assert issuer.verifier.verify(token) is not issuer.verifier.verify(token)
    assert issuer.verifier.remembered_tokens == 0


def test_rejected_tokens_are_not_cached(issuer: Issuer) -> None:
    with pytest.raises(InvalidSignature):
        issuer.verifier.verify(sign(rsa_key("attacker"), issuer.claims(), kid="k1"))
    assert issuer.verifier.remembered_tokens == 0


# --- keys through the verifier: outages and rotation ------------------------------------------


def test_while_the_jwks_is_down_known_keys_keep_verifying_and_unknown_kids_get_401(
    issuer: Issuer,
) -> None:
    issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims()))
    issuer.endpoint.failing = True
    issuer.clock.advance(MAX_AGE + 1)
    with pytest.raises(UnknownSigningKey):
        issuer.verifier.verify(sign(rsa_key("k9"), issuer.claims()))
    fresh = sign(rsa_key("k1"), issuer.claims(jti="after-outage"))
    assert issuer.verifier.verify(fresh).subject == SUBJECT


def test_after_rotation_the_new_key_verifies_after_one_refetch(issuer: Issuer) -> None:
    issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims()))
    issuer.endpoint.publish(rsa_key("k1"), rsa_key("k2"))
    issuer.clock.advance(COOLDOWN)
    assert issuer.verifier.verify(sign(rsa_key("k2"), issuer.claims())).key_id == "k2"
    assert len(issuer.endpoint.calls) == 2


# --- authorization data -----------------------------------------------------------------------

GRANTS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("permissions-array", {"permissions": ["read:a", "read:b"], "scope": None}, {"read:a", "read:b"}),
    # scope entries, OAuth's and OIDC's alike, are no permissions (issue 15, item 4).
    ("scope-string-grants-nothing", {"permissions": None, "scope": "openid read:a"}, set()),
    ("oidc-scopes-are-not-permissions", {"permissions": ["read:a"], "scope": "openid profile email"}, {"read:a"}),
    ("both-only-the-array", {"permissions": ["read:a"], "scope": "read:b"}, {"read:a"}),
    ("scope-double-spaces", {"permissions": None, "scope": " read:a  read:b "}, set()),
    ("empty-entries-grant-nothing", {"permissions": ["", "read:a"], "scope": ""}, {"read:a"}),
    (
        "an-m2m-token-as-auth0-issues-it",
        {"permissions": ["read:a"], "scope": "read:a", "gty": "client-credentials"},
        {"read:a"},
    ),
]
# Authorization claims of the wrong JSON type are not half-read: the token is refused (see CLAIM_REJECTIONS).
WRONGLY_TYPED_GRANTS: list[tuple[str, dict[str, Any]]] = [
    ("permissions-a-string", {"permissions": "read:a", "scope": None}),
    ("scope-an-array", {"permissions": None, "scope": ["read:a"]}),
    ("mixed-types", {"permissions": [1, None, {"p": "read:a"}, ["read:a"], "read:b"], "scope": None}),
    ("permissions-object", {"permissions": {"read:a": True}, "scope": 5}),
]


@pytest.mark.parametrize(
    ("overrides", "granted"),
    [(case[1], case[2]) for case in GRANTS],
    ids=[case[0] for case in GRANTS],
)
def test_permissions_come_from_the_permissions_array_only(
    issuer: Issuer, overrides: dict[str, Any], granted: set[str]
) -> None:
    verified = issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims(**overrides)))
    assert verified.permissions == granted


@pytest.mark.parametrize(
    "overrides", [case[1] for case in WRONGLY_TYPED_GRANTS], ids=[case[0] for case in WRONGLY_TYPED_GRANTS]
)
def test_authorization_claims_of_the_wrong_json_type_refuse_the_token(
    issuer: Issuer, overrides: dict[str, Any]
) -> None:
    with pytest.raises(InvalidClaim):
        issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims(**overrides)))


def test_grants_is_exact_and_case_sensitive(issuer: Issuer) -> None:
    verified = issuer.verifier.verify(
        sign(rsa_key("k1"), issuer.claims(permissions=["read:course:pencil-icons"], scope=None))
    )
    assert verified.grants("read:course:pencil-icons")
    for near_miss in ("READ:course:pencil-icons", "read:course:pencil", "read:course:pencil-icons "):
        assert not verified.grants(near_miss)


def test_verified_claims_cannot_be_changed_by_the_caller(issuer: Issuer) -> None:
    verified = issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims()))
    with pytest.raises(TypeError):
        verified.claims["sub"] = "someone-else"  # type: ignore[index]


# --- fuzzing: whatever the bytes, the answer is "valid" or InvalidToken -----------------------


def _mutate(token: str, rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "-_.=+/ ~\x00\u00e9"
    position = rng.randrange(len(token))
    choice = rng.randrange(6)
    if choice == 0:
        return token[:position] + rng.choice(alphabet) + token[position + 1 :]
    if choice == 1:
        return token[:position] + token[position + 1 :]
    if choice == 2:
        return token[:position] + rng.choice(alphabet) + token[position:]
    if choice == 3:
        return token[:position]
    segments = token.split(".")
    if choice == 4:
        rng.shuffle(segments)
        return ".".join(segments)
    return ".".join([*segments, rng.choice(segments)])


def test_fuzz_mutated_tokens_are_always_invalid_tokens(issuer: Issuer) -> None:
    rng = random.Random(20240611)
    originals = [sign(rsa_key("k1"), issuer.claims(jti=str(index))) for index in range(5)]
    for original in originals:
        issuer.verifier.verify(original)  # warm keys and cache: mutations must not hit it
    for _ in range(3000):
        mutated = _mutate(rng.choice(originals), rng)
        if mutated in originals:
            continue
        with pytest.raises(InvalidToken):
            issuer.verifier.verify(mutated)


def test_fuzz_random_strings_are_always_invalid_tokens(issuer: Issuer) -> None:
    rng = random.Random(7)
    issuer.verifier.verify(sign(rsa_key("k1"), issuer.claims()))
    for _ in range(2000):
        length = rng.randrange(0, 400)
        if rng.random() < 0.5:
            text = "".join(rng.choice(string.ascii_letters + "-_.") for _ in range(length))
        else:
            text = bytes(rng.randrange(256) for _ in range(length)).decode("latin-1")
        with pytest.raises(InvalidToken):
            issuer.verifier.verify(text)


_WEIRD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    "",
    "x",
    "0",
    [],
    {},
    [None],
    [1, "a"],
    {"a": 1},
    10**30,
    -(10**30),
    "1e400",
    ISSUER,
    AUDIENCE,
    [AUDIENCE],
    "read:course:pencil-icons",
]


def test_fuzz_signed_tokens_with_random_claim_types_never_crash(issuer: Issuer) -> None:
    rng = random.Random(99)
    names = ["exp", "iat", "nbf", "iss", "aud", "sub", "permissions", "scope"]
    now = int(issuer.clock.now)
    accepted = 0
    for index in range(250):
        document = issuer.claims(jti=f"f{index}")
        for name in rng.sample(names, rng.randrange(1, 4)):
            pool = [*_WEIRD_VALUES, now - 100, now + 100, now + 10_000]
            document[name] = rng.choice(pool)
        token = sign(rsa_key("k1"), document)
        try:
            verified = issuer.verifier.verify(token)
        except InvalidToken:
            continue
        accepted += 1
        _assert_acceptable(verified, document, now)
    assert accepted > 0  # the generator also produces valid tokens, so acceptance is exercised


def _assert_acceptable(verified: VerifiedToken, document: dict[str, Any], now: int) -> None:
    assert type(document["exp"]) in (int, float)
    assert document["exp"] + LEEWAY > now
    assert type(document["iat"]) in (int, float)
    assert document["iat"] <= now + LEEWAY
    assert "nbf" not in document or document["nbf"] <= now + LEEWAY
    assert document["iss"] == ISSUER
    assert document["aud"] == AUDIENCE or AUDIENCE in document["aud"]
    assert isinstance(document["sub"], str)
    assert document["sub"]
    assert verified.subject == document["sub"]
    assert "permissions" not in document or isinstance(document["permissions"], list)
    assert "scope" not in document or isinstance(document["scope"], str)


def _with_header(token: str, header: dict[str, Any]) -> str:
    """Replace a token's header (the signature no longer matters: the header is refused first)."""
    _, payload, signature = token.split(".")
    return f"{b64url(json.dumps(header).encode())}.{payload}.{signature}"
