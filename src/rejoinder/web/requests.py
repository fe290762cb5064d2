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

    Query values are shown back in filter forms (the desk's ``?q=``, ``?from=``), and HTML
    cannot carry a NUL: as U+FFFD every page shows what a browser would, without each
    template asking. (The store keeps NUL out of PostgreSQL's parameters itself; a NUL in a
    form body is the handlers' business, shown back through ``rendering.as_typed``.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%00" in scope.get("query_string", b""):
            scope = {**scope, "query_string": scope["query_string"].replace(b"%00", b"%EF%BF%BD")}
        await self.app(scope, receive, send)
