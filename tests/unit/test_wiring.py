"""The composition root builds each thing once per container, keeps no failed build, and forgets on demand."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from chalicelib import wiring
from chalicelib.errors import ConfigurationError


@pytest.fixture(autouse=True)
def fresh_wiring() -> Iterator[None]:
    wiring.clear_caches()
    yield
    wiring.clear_caches()


def test_a_setting_is_read_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.com")
    first = wiring.get_cors_policy()
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://other.example.com")

    assert wiring.get_cors_policy() is first
    assert first.allowed_origins == ("https://app.example.com",)


def test_clear_caches_makes_the_next_call_build_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.com")
    first = wiring.get_cors_policy()
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://other.example.com")
    wiring.clear_caches()

    assert wiring.get_cors_policy() is not first
    assert wiring.get_cors_policy().allowed_origins == ("https://other.example.com",)


def test_a_build_that_failed_is_tried_again_on_the_next_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.com/with-a-path")
    with pytest.raises(ConfigurationError):
        wiring.get_cors_policy()
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.com")

    assert wiring.get_cors_policy().allowed_origins == ("https://app.example.com",)


def test_threads_asking_at_once_share_one_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.com")
    start = threading.Barrier(8)
    seen: list[object] = []

    def ask() -> None:
        start.wait()
        seen.append(wiring.get_cors_policy())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 8
    assert all(policy is seen[0] for policy in seen)
