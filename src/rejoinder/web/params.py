"""The values a request carries in its query, path or form, parsed once by typed parsers.

Each parser takes the raw text (None or "" when absent) and returns the typed value, or raises
`Invalid(field, message)`: the pages show the message beside the field (or on the error page),
the API answers it in the one error shape. Nothing here lets a hostile value reach `int()`,
date arithmetic or the database unchecked: "²".isdigit() is True, int() refuses more than 4,300
digits, 9999-12-31 has no next day, and PostgreSQL's integer columns (every id and comment
number here) refuse a parameter over 2**31 - 1 where SQLite would take it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Path
from starlette.types import ASGIApp, Receive, Scope, Send

from rejoinder.core.errors import Invalid
from rejoinder.core.messages import Message
from rejoinder.core.models import Sort

ID_MAX = 2**31 - 1  # the largest value of an integer column (ids, comment numbers) on PostgreSQL
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)  # far from date.max: the day after it is a date too
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# A numeric id in a route's path: FastAPI refuses anything else with a 422 in the error shape.
# Up to 2**63 - 1, so that an id no row can have is a 404 (the store answers None for one past
# ID_MAX without asking the database), not a refusal of its form.
PathId = Annotated[int, Path(ge=0, le=2**63 - 1)]


def parse_int(
    value: str | None, field: str, message: str | Message, *, low: int = 0, high: int = ID_MAX
) -> int | None:
    """ASCII digits only, from `low` to `high`; None when absent or blank."""
    value = (value or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(high)):
        raise Invalid(field, message)
    number = int(value)
    if not low <= number <= high:
        raise Invalid(field, message)
    return number


def parse_ids(values: Iterable[object]) -> list[int]:
    """The ids among a form's repeated values (checkboxes); anything else is left out."""
    ids = []
    for value in values:
        try:
            number = parse_int(value, "ids", "") if isinstance(value, str) else None
        except Invalid:
            continue
        if number is not None:
            ids.append(number)
    return ids


def parse_day(value: str | None, field: str) -> date | None:
    """A day written YYYY-MM-DD, from FIRST_DAY to LAST_DAY; None when absent or blank."""
    value = (value or "").strip()
    if not value:
        return None
    message = f"{field} is a date from {FIRST_DAY} to {LAST_DAY}, written like 2026-01-31."
    if not _DAY.fullmatch(value):
        raise Invalid(field, message)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, message) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(field, message)
    return day


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_since(value: str | None, field: str) -> datetime | None:
    """The start (UTC) of the day given: a filter's first moment."""
    day = parse_day(value, field)
    return _start(day) if day else None


def parse_until(value: str | None, field: str) -> datetime | None:
    """The start (UTC) of the day after the one given: a filter that includes the whole day."""
    day = parse_day(value, field)
    return _start(day + timedelta(days=1)) if day else None


# What parse_sort and parse_cursor take, for the OpenAPI document (they keep their messages).
SORTS: dict[str, Any] = {"enum": [sort.value for sort in Sort]}
CURSOR: dict[str, Any] = {"pattern": f"^[0-9]{{1,{len(str(ID_MAX)) - 1}}}$"}


def parse_sort(value: str | None) -> Sort:
    if value in (None, ""):
        return Sort.OLDEST
    try:
        return Sort(value)
    except ValueError:
        raise Invalid("sort", "sort is 'oldest' or 'newest'.") from None


def parse_cursor(value: str | None) -> int | None:
    message = "cursor is the number given as next_cursor by the previous page."
    return parse_int(value, "cursor", message)


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
