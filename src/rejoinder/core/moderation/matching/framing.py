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
    """The ranges of ``text`` (original characters) that report and denounce someone
    else's words: from the start of such a sentence to the end of its denunciation, or to
    the end of the sentence when the denunciation comes first ("I reported the comment
    that said ..."), so that what follows a verdict ("..., because they are worse") is
    judged as it stands."""
    folded = fold(text)
    said = sentences(folded, _grammar().vocabulary)
    found: list[tuple[int, int]] = []
    for n, sentence in enumerate(said):
        reported = _reports(sentence)
        if reported is None:
            continue
        until = _denounced_until(sentence, reported)
        next_opens = n + 1 < len(said) and _after_semicolon(folded.text, sentence)
        if until is None and next_opens and _opens(said[n + 1]):
            until = len(sentence.keys)
        if until is not None:
            span = folded.span(sentence.folded_starts[0], sentence.folded_ends[until - 1])
            found.append((span.start, span.end))
    return tuple(found)


def inside(span: Span, ranges: tuple[tuple[int, int], ...]) -> bool:
    """Whether the span lies within one of the ranges."""
    return any(a <= span.start and span.end <= b for a, b in ranges)


def _reports(s: Sentence) -> int | None:
    """The first report word whose speaker is not the writer ('he said', 'calling'; not
    'I say'), as its word index."""
    writer = _grammar().rule("writer")
    for first, _, _, _ in matcher.finditer(_grammar().rule("report"), s):
        starts = range(max(0, first - 3), first)
        if not any(end == first for at in starts for end in writer.ends(s, at)):
            return first
    return None


def _denounced_until(s: Sentence, reported: int) -> int | None:
    """Up to which word (an end index) the sentence's first unhedged denunciation covers
    it: to the denunciation's end when that lies past the report word, to the sentence's
    end when the denunciation comes before it ("I reported the comment that said ...");
    None when there is none ('that is wrong, but ...', 'hateful, they say' are hedged)."""
    found = _unhedged(s)
    if not found:
        return None
    last = found[0][1]
    return last if last > reported else len(s.keys)


def _opens(s: Sentence) -> bool:
    """An unhedged denunciation at the start of the sentence ('it is a lie, and ...')."""
    return any(first <= 1 for first, _, _, _ in _unhedged(s))


def _unhedged(s: Sentence) -> list[tuple[int, int, int, int]]:
    hedge = _grammar().rule("hedge")
    found = matcher.finditer(_grammar().rule("denounce"), s)
    return [match for match in found if not hedge.ends(s, match[1])]


def _after_semicolon(text: str, s: Sentence) -> bool:
    rest = text[s.folded_ends[-1] :].lstrip(" \"”'’)")
    return rest[:1] in (";", ":")
