"""Blends of a group's or a country's name with an insult: "Israhell", "Amerikkka", "Zionazi".

A word made of a group stem directly followed by an insult (hell, rat, pig, nazi, kkk,
scum, ...) plus at most two letters is flagged, as are a few fixed blends. The stems and
suffixes live in ``data/blends.json``; they are chosen so that no ordinary word has that
shape (there is no "demo" + "crat", because of "democrats").
"""

from __future__ import annotations

import re
from functools import cache

from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.folding import Folded, find_phrases, phrase_pattern
from rejoinder.core.moderation.models import Span

_INNER = r"(?:[^\w\s'’]|_)*"  # "Isra-hell" as well as "Israhell"


def find_blends(folded: Folded) -> list[tuple[Span, str]]:
    """Each blend in the text, with the group whose name it twists."""
    data = lexicon.load("blends")
    allowed = set(data["allowed"])
    found: list[tuple[Span, str]] = []
    for match in _pattern().finditer(folded.text):
        if re.sub(r"[\W_]", "", match.group()) in allowed:
            continue
        stem = match.group("stem")
        group = next(
            (g for s, g in _stems() if re.fullmatch(phrase_pattern(s), stem)), "a group of people"
        )
        found.append((folded.span(match.start(), match.end()), group))
    for word, group in data["words"].items():
        for start, end in find_phrases(folded, (word,)):
            span = folded.span(start, end)
            if not any(s.start <= span.start < s.end for s, _ in found):
                found.append((span, group))
    return sorted(found, key=lambda pair: pair[0].start)


@cache
def _stems() -> tuple[tuple[str, str], ...]:
    stems = lexicon.load("blends")["stems"]
    return tuple(sorted(stems.items(), key=lambda item: len(item[0]), reverse=True))


@cache
def _pattern() -> re.Pattern[str]:
    stems = "|".join(phrase_pattern(stem) for stem, _ in _stems())
    suffixes = sorted(lexicon.load("blends")["suffixes"], key=len, reverse=True)
    ends = "|".join(phrase_pattern(suffix) for suffix in suffixes)
    return re.compile(
        rf"(?<![^\W_])(?P<stem>{stems}){_INNER}(?P<suffix>{ends})[a-z]{{0,2}}(?![^\W_])"
    )
