"""Benchmark token verification on a warm container (prints numbers; not a test).

Run from the repository root::

    .venv/bin/python -m bench.verify_tokens

1. Distinct valid tokens, keys already fetched: time per ``AccessTokenVerifier.verify``
   divided by a bare ``jwt.decode`` with the public key in hand (target <= 1.25). Two
   denominators are shown: ``jwt.decode`` with only ``algorithms`` and ``audience`` (the
   barest call PyJWT accepts for these tokens) and with the same issuer and
   required-claims checks as ours (like for like).
2. The same token repeated: median time per verification (target <= 5 us), and the
   usual recipe, ``PyJWKClient.get_signing_key_from_jwt`` + ``jwt.decode``, for comparison.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import jwt

from chalicelib.access.jwks import JwksCache
from chalicelib.access.verifier import AccessTokenVerifier
from tests.tokens import (
    AUDIENCE,
    ISSUER,
    JWKS_URL,
    FakeJwksEndpoint,
    claims,
    loopback_jwks,
    rsa_key,
    sign,
)


def per_call_seconds(function: Callable[[str], object], tokens: list[str]) -> float:
    gc.disable()  # a collection in the middle of one loop would skew that sample only
    try:
        started = time.perf_counter()
        for token in tokens:
            function(token)
        return (time.perf_counter() - started) / len(tokens)
    finally:
        gc.enable()


def median_of_rounds(
    function: Callable[[str], object],
    tokens: list[str],
    rounds: int,
    before_round: Callable[[], None] = lambda: None,
) -> float:
    samples = []
    for _ in range(rounds):
        before_round()
        samples.append(per_call_seconds(function, tokens))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=1000, help="distinct tokens per round")
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()

    key = rsa_key("bench-key")
    endpoint = FakeJwksEndpoint()
    endpoint.publish(key)
    verifier = AccessTokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        keys=JwksCache(JWKS_URL, algorithms=["RS256"], fetcher=endpoint),
    )
    tokens = [sign(key, claims(jti=f"bench-{index}")) for index in range(options.tokens)]
    public_key = key.private_key.public_key()
    verifier.verify(tokens[0])  # keys fetched once: "warm keys"
    verifier.clear_caches()

    def bare_decode(token: str) -> object:
        # The least PyJWT accepts for an Auth0 access token (it refuses an unchecked aud).
        return jwt.decode(token, public_key, algorithms=["RS256"], audience=AUDIENCE)

    def like_for_like_decode(token: str) -> object:
        return jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )

    # Interleave the three so that machine noise hits them alike.
    ours, bare, like = [], [], []
    for _ in range(options.rounds):
        verifier.clear_caches()  # every token is new to the verifier: no cache hits
        ours.append(per_call_seconds(verifier.verify, tokens))
        bare.append(per_call_seconds(bare_decode, tokens))
        like.append(per_call_seconds(like_for_like_decode, tokens))
    ours_s, bare_s, like_s = (statistics.median(x) for x in (ours, bare, like))

    print("1. distinct valid tokens, warm keys (RSA-2048, RS256)")
    print(f"   AccessTokenVerifier.verify          {ours_s * 1e6:8.1f} us/token")
    print(f"   jwt.decode (algorithms, audience)   {bare_s * 1e6:8.1f} us/token")
    print(f"   jwt.decode (+ issuer, require)      {like_s * 1e6:8.1f} us/token")
    print(f"   ratio vs bare jwt.decode            {ours_s / bare_s:8.3f}   (target <= 1.25)")
    print(f"   ratio vs like-for-like jwt.decode   {ours_s / like_s:8.3f}")

    repeated = [tokens[0]] * 20_000
    verifier.verify(tokens[0])
    hit_s = median_of_rounds(verifier.verify, repeated, options.rounds)

    with loopback_jwks(key) as server:
        client = jwt.PyJWKClient(server.url, cache_keys=True)

        def pyjwk_recipe(token: str) -> object:
            signing_key = client.get_signing_key_from_jwt(token)
            return jwt.decode(token, signing_key.key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)

        pyjwk_recipe(tokens[0])  # its one fetch, over loopback HTTP
        recipe_s = median_of_rounds(pyjwk_recipe, [tokens[0]] * 500, options.rounds)

    print("2. the same token repeated (a SPA's session)")
    print(f"   AccessTokenVerifier.verify          {hit_s * 1e6:8.2f} us/call   (target <= 5 us)")
    print(f"   PyJWKClient + jwt.decode            {recipe_s * 1e6:8.1f} us/call")
    print(f"   ratio PyJWKClient recipe / ours     {recipe_s / hit_s:8.0f}x")
    print(f"   ours (distinct tokens) vs recipe    {ours_s / recipe_s:8.3f}")


if __name__ == "__main__":
    main()
