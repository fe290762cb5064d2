"""How matched words are quoted in the messages that moderators and writers read."""

from __future__ import annotations

from collections.abc import Iterable

from rejoinder.core.moderation.models import Span


def quoted(spans: Iterable[Span], limit: int = 5) -> str:
    """'"a"', '"a" and "b"', '"a", "b" and "c"': each distinct text once, in order."""
    texts: list[str] = []
    for span in spans:
        text = " ".join(span.text.split())
        if text not in texts:
            texts.append(text)
    shown = [f'"{t}"' for t in texts[:limit]]
    if len(texts) > limit:
        shown.append(f"{len(texts) - limit} more")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
