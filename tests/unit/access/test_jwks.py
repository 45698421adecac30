"""The JWKS cache fetches rarely, never storms, survives outages; the fetcher stays in bounds."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from chalicelib.access.jwks import JwksCache, UrllibJwksFetcher, parse_jwks
from chalicelib.errors import JwksFetchError, KeysUnavailable, UnknownSigningKey
from tests.tokens import JWKS_URL, Answer, FakeClock, FakeJwksEndpoint, ScriptedServer, ec_key, jwks, rsa_key

COOLDOWN = 15.0
MAX_AGE = 600.0


def make_cache(
    endpoint: FakeJwksEndpoint,
    clock: FakeClock,
    algorithms: tuple[str, ...] = ("RS256",),
) -> JwksCache:
    return JwksCache(
        JWKS_URL,
        algorithms=algorithms,
        fetcher=endpoint,
        clock=clock,
        cooldown_seconds=COOLDOWN,
        max_age_seconds=MAX_AGE,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def endpoint() -> FakeJwksEndpoint:
    served = FakeJwksEndpoint()
    served.publish(rsa_key("k1"))
    return served


# --- fetching rarely ---------------------------------------------------------------------------


def test_the_first_lookup_fetches_the_jwks_from_the_configured_url(
    endpoint: FakeJwksEndpoint, clock: FakeClock
) -> None:
    cache = make_cache(endpoint, clock)
    assert cache.get_key("k1").kid == "k1"
    assert endpoint.calls == [JWKS_URL]


def test_known_keys_are_served_without_another_fetch_while_the_set_is_fresh(
    endpoint: FakeJwksEndpoint, clock: FakeClock
) -> None:
    cache = make_cache(endpoint, clock)
    first = cache.get_key("k1")
    for _ in range(50):
        clock.advance(10)
        assert cache.get_key("k1") is first
    assert len(endpoint.calls) == 1


def test_rotation_a_new_kid_is_accepted_after_one_refetch(endpoint: FakeJwksEndpoint, clock: FakeClock) -> None:
    cache = make_cache(endpoint, clock)
    cache.get_key("k1")
    clock.advance(COOLDOWN)
    endpoint.publish(rsa_key("k1"), rsa_key("k2"))
    assert cache.get_key("k2").kid == "k2"
    assert len(endpoint.calls) == 2
    assert cache.get_key("k1").kid == "k1"
    assert len(endpoint.calls) == 2


def test_a_removed_key_stops_working_once_the_set_reaches_its_max_age(
    endpoint: FakeJwksEndpoint, clock: FakeClock
) -> None:
    cache = make_cache(endpoint, clock)
    endpoint.publish(rsa_key("k1"), rsa_key("k2"))
    cache.get_key("k1")
    endpoint.publish(rsa_key("k2"))  # k1 retired by the tenant
    clock.advance(MAX_AGE - 1)
    assert cache.get_key("k1").kid == "k1"  # still within max age: no fetch yet
    assert len(endpoint.calls) == 1
    clock.advance(1)
    with pytest.raises(UnknownSigningKey):
        cache.get_key("k1")
    assert len(endpoint.calls) == 2
    assert cache.get_key("k2").kid == "k2"


# --- never storming ----------------------------------------------------------------------------


def test_an_unknown_kid_refetches_at_most_once_per_cooldown(endpoint: FakeJwksEndpoint, clock: FakeClock) -> None:
    cache = make_cache(endpoint, clock)
    cache.get_key("k1")
    clock.advance(COOLDOWN)
    for _ in range(20):
        with pytest.raises(UnknownSigningKey):
            cache.get_key("nope")
        clock.advance(0.5)
    assert len(endpoint.calls) == 2  # the cold fetch and one refetch


def test_a_storm_of_distinct_unknown_kids_costs_one_fetch_per_cooldown(
    endpoint: FakeJwksEndpoint, clock: FakeClock
) -> None:
    cache = make_cache(endpoint, clock)
    cache.get_key("k1")
    fetches_per_window = []
    for window in range(4):
        clock.advance(COOLDOWN)
        before = len(endpoint.calls)
        for index in range(250):
            with pytest.raises(UnknownSigningKey):
                cache.get_key(f"attacker-{window}-{index}")
            clock.advance(COOLDOWN / 500)
        fetches_per_window.append(len(endpoint.calls) - before)
    assert fetches_per_window == [1, 1, 1, 1]


def test_concurrent_misses_share_a_single_fetch(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(delay_seconds=0.2)
    endpoint.publish(rsa_key("k1"))
    cache = make_cache(endpoint, clock)
    found: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def look_up() -> None:
        barrier.wait()
        try:
            found.append(cache.get_key("k1").kid)
        except BaseException as exc:  # the test reports it below
            errors.append(exc)

    threads = [threading.Thread(target=look_up) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert found == ["k1"] * 16
    assert len(endpoint.calls) == 1


def test_concurrent_unknown_kids_while_warm_share_a_single_refetch(
    endpoint: FakeJwksEndpoint, clock: FakeClock
) -> None:
    cache = make_cache(endpoint, clock)
    cache.get_key("k1")
    clock.advance(COOLDOWN)
    endpoint.delay_seconds = 0.1
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def look_up(index: int) -> None:
        barrier.wait()
        try:
            cache.get_key(f"unknown-{index}")
        except UnknownSigningKey:
            outcomes.append("unknown")

    threads = [threading.Thread(target=look_up, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert outcomes == ["unknown"] * 12
    assert len(endpoint.calls) == 2


# --- surviving outages -------------------------------------------------------------------------


def test_jwks_down_at_cold_start_means_keys_unavailable(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(failing=True)
    cache = make_cache(endpoint, clock)
    with pytest.raises(KeysUnavailable):
        cache.get_key("k1")


def test_after_a_failed_cold_fetch_the_next_attempt_waits_for_the_cooldown(
    clock: FakeClock,
) -> None:
    endpoint = FakeJwksEndpoint(failing=True)
    cache = make_cache(endpoint, clock)
    for _ in range(10):
        with pytest.raises(KeysUnavailable):
            cache.get_key("k1")
    assert len(endpoint.calls) == 1
    endpoint.failing = False
    endpoint.publish(rsa_key("k1"))
    clock.advance(COOLDOWN)
    assert cache.get_key("k1").kid == "k1"
    assert len(endpoint.calls) == 2


def test_last_good_keys_keep_working_when_a_refresh_fails(
    endpoint: FakeJwksEndpoint, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    cache = make_cache(endpoint, clock)
    good = cache.get_key("k1")
    endpoint.failing = True
    clock.advance(MAX_AGE + 1)
    with caplog.at_level("WARNING", logger="gumroad_auth0.access"):
        assert cache.get_key("k1") is good
    assert len(endpoint.calls) == 2
    logged = [json.loads(record.getMessage()) for record in caplog.records]
    assert logged[-1]["event"] == "jwks_fetch_failed"
    assert logged[-1]["kept_last_good"] is True


def test_an_unknown_kid_during_an_outage_does_not_break_the_known_keys(
    endpoint: FakeJwksEndpoint, clock: FakeClock
) -> None:
    cache = make_cache(endpoint, clock)
    good = cache.get_key("k1")
    endpoint.failing = True
    clock.advance(COOLDOWN)
    with pytest.raises(UnknownSigningKey):
        cache.get_key("rotated-in")
    assert cache.get_key("k1") is good
    clock.advance(MAX_AGE)
    assert cache.get_key("k1") is good


def test_failed_refreshes_are_retried_once_per_cooldown_while_stale(
    endpoint: FakeJwksEndpoint, clock: FakeClock
) -> None:
    cache = make_cache(endpoint, clock)
    cache.get_key("k1")
    endpoint.failing = True
    clock.advance(MAX_AGE)
    for _ in range(30):
        cache.get_key("k1")
        clock.advance(1)
    assert len(endpoint.calls) == 1 + 2  # cold, then at t=0 and t=COOLDOWN of the stale period


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Service Unavailable</html>",
        b'{"keys": "none"}',
        b"[]",
        b'{"keys": []}',
        json.dumps({"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}]}).encode(),
    ],
    ids=["html", "keys-not-a-list", "not-an-object", "empty", "no-usable-key"],
)
def test_a_malformed_set_is_not_cached_and_the_last_good_one_stays(
    endpoint: FakeJwksEndpoint, clock: FakeClock, body: bytes
) -> None:
    cache = make_cache(endpoint, clock)
    good = cache.get_key("k1")
    endpoint.document = body
    clock.advance(MAX_AGE)
    assert cache.get_key("k1") is good


def test_a_malformed_set_at_cold_start_means_keys_unavailable(clock: FakeClock) -> None:
    cache = make_cache(FakeJwksEndpoint(document=b"not json"), clock)
    with pytest.raises(KeysUnavailable):
        cache.get_key("k1")


def test_clear_forgets_keys_and_cooldown(endpoint: FakeJwksEndpoint, clock: FakeClock) -> None:
    cache = make_cache(endpoint, clock)
    cache.get_key("k1")
    cache.clear()
    cache.get_key("k1")
    assert len(endpoint.calls) == 2


def test_a_cooldown_longer_than_the_max_age_is_refused() -> None:
    with pytest.raises(ValueError, match="cooldown"):
        JwksCache(JWKS_URL, algorithms=["RS256"], cooldown_seconds=700, max_age_seconds=600)


# --- which JWKS entries are usable keys --------------------------------------------------------


def usable_kids(entries: list[dict[str, Any]], algorithms: tuple[str, ...] = ("RS256",)) -> set[str]:
    try:
        return set(parse_jwks(json.dumps({"keys": entries}).encode(), algorithms=algorithms))
    except JwksFetchError:
        return set()


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = {**base, **changes}
    return {name: value for name, value in changed.items() if value is not None}


def test_an_rsa_signature_key_is_usable() -> None:
    assert usable_kids([rsa_key("k1").public_jwk]) == {"k1"}


@pytest.mark.parametrize(
    "changes",
    [
        {"use": "enc"},
        {"key_ops": ["encrypt"]},
        {"alg": "ES256"},
        {"alg": "RS512"},
        {"alg": "HS256"},
        {"kid": None},
        {"kid": 7},
        {"kid": ""},
        {"kid": "k" * 300},
        {"kty": "oct"},
        {"n": "not base64 at all!"},
    ],
    ids=[
        "use-enc",
        "key-ops-without-verify",
        "alg-of-another-family",
        "alg-not-allowed",
        "symmetric-alg",
        "no-kid",
        "kid-not-a-string",
        "empty-kid",
        "kid-too-long",
        "kty-oct",
        "broken-modulus",
    ],
)
def test_entries_whose_own_alg_use_or_kty_disagree_are_skipped(changes: dict[str, Any]) -> None:
    entry = with_changes(rsa_key("k1").public_jwk, **changes)
    assert usable_kids([entry, rsa_key("k2").public_jwk]) == {"k2"}


def test_an_entry_publishing_private_key_material_is_skipped() -> None:
    private_key = rsa_key("k1").private_key
    assert isinstance(private_key, rsa.RSAPrivateKey)
    private = RSAAlgorithm.to_jwk(private_key, as_dict=True)
    # PyJWT marks it key_ops ["sign"]; drop that so the private members alone must decide.
    entry = {**private, "kid": "k1", "alg": "RS256", "use": "sig"}
    entry.pop("key_ops", None)
    assert usable_kids([entry, rsa_key("k2").public_jwk]) == {"k2"}


def test_an_rsa_key_below_2048_bits_is_skipped() -> None:
    short = rsa_key("short", bits=1024)
    assert usable_kids([short.public_jwk, rsa_key("k2").public_jwk]) == {"k2"}


def test_a_key_without_alg_serves_every_allowed_algorithm_of_its_family() -> None:
    entry = with_changes(rsa_key("k1").public_jwk, alg=None)
    keys = parse_jwks(json.dumps({"keys": [entry]}).encode(), algorithms=("RS256", "PS256", "ES256"))
    assert set(keys["k1"].by_algorithm) == {"RS256", "PS256"}


def test_a_key_with_alg_serves_that_algorithm_only() -> None:
    keys = parse_jwks(jwks_body(rsa_key("k1").public_jwk), algorithms=("RS256", "PS256"))
    assert keys["k1"].for_algorithm("RS256") is not None
    assert keys["k1"].for_algorithm("PS256") is None


def test_an_ec_key_serves_the_algorithm_of_its_curve() -> None:
    entry = with_changes(ec_key("e1").public_jwk, alg=None)
    keys = parse_jwks(jwks_body(entry), algorithms=("ES256", "ES384", "RS256"))
    assert set(keys["e1"].by_algorithm) == {"ES256"}


def test_the_first_of_two_entries_with_the_same_kid_wins() -> None:
    first, second = rsa_key("a"), rsa_key("b")
    entries = [with_changes(first.public_jwk, kid="dup"), with_changes(second.public_jwk, kid="dup")]
    keys = parse_jwks(jwks_body(*entries), algorithms=("RS256",))
    prepared = keys["dup"].for_algorithm("RS256")
    assert prepared is not None
    assert prepared.key.public_numbers() == first.private_key.public_key().public_numbers()


def jwks_body(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"keys": list(entries)}).encode()


# --- the HTTP fetcher --------------------------------------------------------------------------


def served_jwks(*kids: str) -> bytes:
    return json.dumps(jwks(*(rsa_key(kid) for kid in kids))).encode()


def test_the_fetcher_returns_the_body_of_a_200() -> None:
    with ScriptedServer(Answer(body=served_jwks("k1"))) as server:
        body = UrllibJwksFetcher()(server.url())
    assert json.loads(body)["keys"][0]["kid"] == "k1"


def test_the_fetcher_does_not_follow_redirects() -> None:
    with ScriptedServer() as elsewhere, ScriptedServer() as server:
        server.answers.append(Answer(status=302, headers={"Location": elsewhere.url()}))
        elsewhere.answers.append(Answer(body=served_jwks("evil")))
        with pytest.raises(JwksFetchError, match="302"):
            UrllibJwksFetcher()(server.url())
    assert (len(server.paths), elsewhere.paths) == (1, [])


def test_the_fetcher_refuses_an_error_status_without_retrying() -> None:
    with (
        ScriptedServer(Answer(status=503), Answer(body=served_jwks("k1"))) as server,
        pytest.raises(JwksFetchError, match="503"),
    ):
        UrllibJwksFetcher()(server.url())
    assert len(server.paths) == 1


def test_the_fetcher_refuses_a_body_over_the_cap() -> None:
    with ScriptedServer(Answer(body=b"x" * 2_000)) as server, pytest.raises(JwksFetchError, match="larger"):
        UrllibJwksFetcher(max_bytes=1_000)(server.url())


def test_the_fetcher_refuses_a_body_over_the_cap_without_a_content_length() -> None:
    # Declared length absent: the cap is enforced while reading.
    with (
        ScriptedServer(Answer(body=b"x" * 2_000, headers={"Content-Length": "", "Connection": "close"})) as server,
        pytest.raises(JwksFetchError),
    ):
        UrllibJwksFetcher(max_bytes=1_000)(server.url())


def test_the_fetcher_decodes_a_gzip_body() -> None:
    document = served_jwks("k1")
    with ScriptedServer(Answer(body=gzip.compress(document), headers={"Content-Encoding": "gzip"})) as server:
        assert UrllibJwksFetcher()(server.url()) == document


def test_the_cap_applies_to_the_decompressed_size_of_a_gzip_body() -> None:
    bomb = gzip.compress(b" " * 5_000_000)
    with (
        ScriptedServer(Answer(body=bomb, headers={"Content-Encoding": "gzip"})) as server,
        pytest.raises(JwksFetchError, match="larger"),
    ):
        UrllibJwksFetcher(max_bytes=150_000)(server.url())


def test_the_fetcher_retries_once_after_a_network_error() -> None:
    with ScriptedServer(Answer(reset=True), Answer(body=served_jwks("k1"))) as server:
        body = UrllibJwksFetcher()(server.url())
    assert b"k1" in body
    assert len(server.paths) == 2


def test_the_fetcher_gives_up_after_two_network_errors() -> None:
    with (
        ScriptedServer(Answer(reset=True), Answer(reset=True), Answer(body=served_jwks("k1"))) as server,
        pytest.raises(JwksFetchError, match="network"),
    ):
        UrllibJwksFetcher()(server.url())
    assert len(server.paths) == 2


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/.well-known/jwks.json"
    finally:
        listener.close()


def test_the_fetcher_times_out_on_a_server_that_never_answers(silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(JwksFetchError, match="network"):
        UrllibJwksFetcher(timeout_seconds=0.2, attempts=2)(silent_server)
    assert time.monotonic() - started < 2.0


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """A loopback server that sends headers, then one byte of body every 50 ms."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while not stop.is_set():
                    try:
                        connection.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/.well-known/jwks.json"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_the_fetcher_stops_a_body_that_drips_past_the_deadline(dripping_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(JwksFetchError):
        UrllibJwksFetcher(timeout_seconds=0.3, attempts=1)(dripping_server)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    "changes",
    [
        {"crv": ["P-256"]},
        {"kty": "OKP", "crv": ["Ed25519"]},
        {"n": 12345},
        {"e": None},
        {"kid": {"nested": "object"}},
        {"kty": ["RSA"]},
        {"alg": ["RS256"]},
        {"use": {"sig": True}},
        {"key_ops": "verify"},
        {"key_ops": [1, 2]},
        {"x": 1.5},
    ],
    ids=str,
)
def test_an_entry_whose_members_have_the_wrong_json_type_is_skipped_not_a_crash(changes: dict[str, Any]) -> None:
    entry = {**rsa_key("k1").public_jwk, **changes}
    assert usable_kids([entry, rsa_key("k2").public_jwk]) == {"k2"}


def test_a_set_with_only_malformed_entries_means_keys_unavailable_not_a_crash(clock: FakeClock) -> None:
    entries = [{**rsa_key("k1").public_jwk, "crv": ["P-256"], "kty": "OKP"}, {**rsa_key("k2").public_jwk, "n": 7}]
    cache = make_cache(FakeJwksEndpoint(document={"keys": entries}), clock)

    with pytest.raises(KeysUnavailable):
        cache.get_key("k1")
