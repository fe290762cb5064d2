"""How matched words are quoted in the messages that moderators and writers read."""

from __future__ import annotations

from collections.abc import Iterable

from rejoinder.core.messages import N_, Message, Nn_
from rejoinder.core.moderation.models import Span


def quoted(spans: Iterable[Span], limit: int = 5) -> str:
    """'"a"', '"a" and "b"', '"a", "b" and "c"': each distinct text once, in order."""
    return str(quoted_words(spans, limit))


def quoted_words(spans: Iterable[Span], limit: int = 5) -> Message:
    """`quoted` as a message, so that "and" and "more" can be said in the writer's language."""
    texts: list[str] = []
    for span in spans:
        text = " ".join(span.text.split())
        if text not in texts:
            texts.append(text)
    shown: list[str | Message] = [f'"{t}"' for t in texts[:limit]]
    if len(texts) > limit:
        shown.append(Nn_("{n} more", "{n} more", len(texts) - limit))
    if len(shown) == 1:
        return Message("{words}", {"words": shown[0]})  # nothing to translate
    items = Message(
        ", ".join(f"{{w{i}}}" for i in range(len(shown) - 1)),
        {f"w{i}": w for i, w in enumerate(shown[:-1])},
    )
    return N_("{items} and {last}", items=items, last=shown[-1])
