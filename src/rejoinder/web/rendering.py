"""The Jinja environment: templates shipped in the package, autoescaped, with date filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def human_date(value: datetime) -> str:
    return f"{value:%B} {value.day}, {value:%Y}"


def human_time(value: datetime) -> str:
    hour = value.hour % 12 or 12
    half = "am" if value.hour < 12 else "pm"
    return f"{value:%B} {value.day}, {value:%Y} at {hour}:{value:%M} {half} UTC"


def comment_count(value: int) -> str:
    if value == 0:
        return "No comments yet"
    return "1 Comment" if value == 1 else f"{value:,} Comments"


def as_typed(text: str) -> str:
    """User input shown back in a form as typed, but for NUL, which HTML cannot carry: a
    browser shows U+FFFD for it, so the page says the same (one character for one, so spans
    over the text still fit)."""
    return text.replace("\0", "\ufffd")


def ld_json(markup: dict[str, Any]) -> str:
    """JSON for a <script type="application/ld+json"> block, with no "<", ">" or "&" in it,
    so no comment's text can close the block."""
    text = orjson.dumps(markup).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def make_renderer(globals_: dict[str, Any]) -> tuple[Environment, Callable[..., str]]:
    env = Environment(
        loader=PackageLoader("rejoinder.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=False,
        lstrip_blocks=False,
        auto_reload=False,
    )
    env.filters.update(
        iso=iso, human_date=human_date, human_time=human_time, comment_count=comment_count
    )
    env.globals.update(globals_)

    def render(template: str, /, **context: Any) -> str:
        return env.get_template(template).render(**context)

    return env, render
