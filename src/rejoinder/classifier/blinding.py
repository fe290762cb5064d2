"""The text the model reads: every mention of a group of people replaced by one neutral word,
with each character's place in the writer's text kept, so that the model weighs what a
comment says of people, not who it names (docs/MODEL.md, "Fairness across groups")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rejoinder.classifier.spelling import Normalised
from rejoinder.core.moderation.matching.groups import mentions

#: "an" before a placeholder that starts with a consonant ("an Indian" -> "a person").
_AN = re.compile(r"(?<![a-z0-9])an\s+$")


@dataclass(frozen=True)
class Blinded:
    """`norm` is the normalised text with each mention replaced; `placeholders` are the
    [start, end) ranges of `norm.text` that stand for a group's name, which an explanation
    never stops at on its own."""

    norm: Normalised
    placeholders: tuple[tuple[int, int], ...]


def blind(norm: Normalised) -> Blinded:
    """`norm` with every group mention (`matching.groups.mentions`) replaced by its
    placeholder. Each placeholder's characters map onto the mention's, its first to the
    first and its last to the last, so a span over it quotes the name as written."""
    found = mentions(norm.text)
    if not found:
        return Blinded(norm, ())
    text, origin = norm.text, norm.origin
    parts: list[str] = []
    places: list[int] = []
    ranges: list[tuple[int, int]] = []
    at = 0
    length = 0
    for mention in found:
        before = text[at : mention.start]
        article = _AN.search(before)
        if article is not None and mention.placeholder[:1] not in "aeiou":
            # keep "an"'s first character and its places; drop the "n"
            cut = article.start() + 1
            before = before[:cut] + before[cut + 1 :]
            kept = list(origin[at : mention.start])
            del kept[cut]
        else:
            kept = list(origin[at : mention.start])
        parts.append(before)
        places.extend(kept)
        length += len(before)
        word = mention.placeholder
        end = mention.end
        if not word and text[end : end + 1] == " ":  # a word dropped: its space with it
            end += 1
        span = mention.end - mention.start
        last = len(word) - 1
        parts.append(word)
        places.extend(
            origin[mention.start + (span - 1 if k == last else min(k, span - 1))]
            for k in range(len(word))
        )
        if word:
            ranges.append((length, length + len(word)))
        length += len(word)
        at = end
    parts.append(text[at:])
    places.extend(origin[at:])
    return Blinded(Normalised("".join(parts), tuple(places)), tuple(ranges))
