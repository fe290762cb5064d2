"""Time arithmetic for the phases; the current time always comes in the submission."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (as SQLite returns it)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def elapsed(earlier: datetime, later: datetime) -> float:
    """Seconds from ``earlier`` to ``later`` (negative when ``earlier`` is in the future)."""
    return (utc(later) - utc(earlier)).total_seconds()


def whole_seconds(seconds: float) -> int:
    """A wait rounded up to whole seconds, at least one."""
    return max(1, math.ceil(seconds - 1e-9))


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
