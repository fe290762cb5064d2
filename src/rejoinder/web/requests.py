"""Small parsers for query parameters shared by the pages and the API."""

from __future__ import annotations

from rejoinder.core.errors import Invalid
from rejoinder.core.models import Sort


def parse_sort(value: str | None) -> Sort:
    if value in (None, ""):
        return Sort.OLDEST
    try:
        return Sort(value)
    except ValueError:
        raise Invalid("sort", "sort is 'oldest' or 'newest'.") from None


def parse_cursor(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:  # "²".isdigit() is True
        raise Invalid("cursor", "cursor is the number given as next_cursor by the previous page.")
    return int(value)
