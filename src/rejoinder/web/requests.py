"""Small parsers for query parameters shared by the pages and the API."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

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


class QueryWithoutNul:
    """ASGI middleware: a NUL in the query string (``%00``) reaches the handlers as U+FFFD.

    No stored text holds a NUL (what is written is cleaned first), so a lookup with one can
    match nothing either way; but PostgreSQL refuses a NUL even in a query's parameters, so
    one ``?actor=%00`` on a desk filter was a 500 there and an empty page on SQLite. As U+FFFD
    it is an empty page on both, and a filter form that shows the value back shows what a
    browser would. (A NUL in a form body is the handlers' own business: they validate it.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%00" in scope.get("query_string", b""):
            scope = {**scope, "query_string": scope["query_string"].replace(b"%00", b"%EF%BF%BD")}
        await self.app(scope, receive, send)
