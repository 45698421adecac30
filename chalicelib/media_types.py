"""The media type of a Content-Type header: the one reading every route that takes a body shares."""

from __future__ import annotations


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``; absent -> ``""``. Case never matters."""
    return (content_type or "").split(";", 1)[0].strip().lower()
