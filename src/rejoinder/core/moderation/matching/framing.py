"""Counter-speech: sentences that report someone else's hateful words and denounce them.

"Your column said X are vermin, and that is hateful nonsense", "Calling X parasites, as
the councillor did, is disgusting": the words that would hold a comment are there, but the
writer quotes them to push back. A sentence counts only when it holds both a report that
is not the writer's own ("said", "calling", "stickers calling"; not "I say") and a
denunciation ("that is hateful", "should be ashamed", "told him to stop"), or when the
denunciation opens the sentence after a semicolon ("the leaflet claimed ...; it is a lie").
A report alone ("someone said X are vermin") or a verdict alone is not a frame, so hate
does not escape by a prefix.

The lists and rules live in ``data/framing.json``, read as a grammar (grammar.py). The
phases that hold for words (words, insults, identity, threats) drop what lies inside a
frame, and the model phase drops a hold whose every span lies inside one.
"""

from __future__ import annotations

from functools import cache, lru_cache

from rejoinder.core.moderation.matching import lexicon, matcher
from rejoinder.core.moderation.matching.folding import fold
from rejoinder.core.moderation.matching.grammar import Grammar
from rejoinder.core.moderation.matching.sentences import Sentence, sentences
from rejoinder.core.moderation.models import Span


@cache
def _grammar() -> Grammar:
    return Grammar(lexicon.load("framing"))


@lru_cache(maxsize=64)  # the phases ask for the same text in turn
def frames(text: str) -> tuple[tuple[int, int], ...]:
    """The ranges of ``text`` (original characters) of the sentences that report and
    denounce someone else's words."""
    folded = fold(text)
    grammar = _grammar()
    said = sentences(folded, grammar.vocabulary)
    found: list[tuple[int, int]] = []
    for n, sentence in enumerate(said):
        if not sentence.keys or not _reports(sentence):
            continue
        if matcher.search(grammar.rule("denounce"), sentence) or (
            n + 1 < len(said) and _after_semicolon(folded.text, sentence) and _opens(said[n + 1])
        ):
            span = folded.span(sentence.folded_starts[0], sentence.folded_ends[-1])
            found.append((span.start, span.end))
    return tuple(found)


def inside(span: Span, ranges: tuple[tuple[int, int], ...]) -> bool:
    """Whether the span lies within one of the ranges."""
    return any(a <= span.start and span.end <= b for a, b in ranges)


def _reports(s: Sentence) -> bool:
    """A report word whose speaker is not the writer: 'he said', 'calling'; not 'I say'."""
    writer = _grammar().rule("writer")
    for first, _, _, _ in matcher.finditer(_grammar().rule("report"), s):
        if not any(
            end == first for at in range(max(0, first - 3), first) for end in writer.ends(s, at)
        ):
            return True
    return False


def _opens(s: Sentence) -> bool:
    """A denunciation at the start of the sentence ('it is a lie, and ...')."""
    return any(match[0] <= 1 for match in matcher.finditer(_grammar().rule("denounce"), s))


def _after_semicolon(text: str, s: Sentence) -> bool:
    rest = text[s.folded_ends[-1] :].lstrip(" \"”'’)")
    return rest[:1] in (";", ":")
