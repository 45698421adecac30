"""Requests sent at the same moment, each from its own thread on its own new connection, as a burst arrives."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
TIMEOUT = 60.0  # a burst of scrypt checks on two cores takes seconds, not minutes


@dataclass(frozen=True)
class Answer:
    """A status and headers, or ``failure`` (the exception's name: a reset, a refused connection)."""

    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    failure: str | None = None


def post(port: int, path: str, body: str, *, content_type: str, headers: Mapping[str, str] | None = None) -> Answer:
    """POST on a connection of its own to 127.0.0.1:``port``; a connection failure is an answer too."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})})
        response = connection.getresponse()
        response.read()
        return Answer(response.status, {name.lower(): value for name, value in response.getheaders()})
    except OSError as failure:  # ConnectionResetError, BrokenPipeError, a timeout
        return Answer(None, failure=type(failure).__name__)
    finally:
        connection.close()


def post_form(port: int, path: str, form: Mapping[str, str], headers: Mapping[str, str] | None = None) -> Answer:
    return post(port, path, urlencode(form), content_type="application/x-www-form-urlencoded", headers=headers)


def all_at_once(
    count: int, send: Callable[[int], Answer], *, meanwhile: Callable[[], T] | None = None
) -> tuple[list[Answer], T | None]:
    """``send(i)`` from ``count`` threads released together by a barrier.

    ``meanwhile`` runs once the first of them is answered, while the others may still be in flight.
    """
    barrier = threading.Barrier(count)
    first_answered = threading.Event()

    def one(index: int) -> Answer:
        barrier.wait()
        try:
            return send(index)
        finally:
            first_answered.set()

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(one, index) for index in range(count)]
        later = None
        if meanwhile is not None:
            first_answered.wait(TIMEOUT)
            later = meanwhile()
        return [future.result() for future in futures], later
