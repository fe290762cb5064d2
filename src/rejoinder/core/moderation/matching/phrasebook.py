"""Find a grammar file's patterns in a text, sentence by sentence, past its guards.

A phrasebook is one file of ``data/`` read as a :class:`~grammar.Grammar` (lists, verbs,
rules) with ``patterns`` (``{code: [entries]}``, an entry a line or ``{"id": ..., "seq":
line, ...flags, "examples": [...]}``) and ``messages``. A match is kept unless a guard list
of the same file says the sentence only talks about such words:

* ``idioms`` (and ``<code>_idioms``) overlap the match: "shoot the messenger";
* a ``soft_verbs`` word is in the match and a ``sports`` word in the sentence: "we'll
  murder them on Saturday";
* ``negative_subject`` before the match ("nobody should ...", "what if ..."), or a
  negation just before it ("does not deserve to die");
* a ``reported`` word anywhere else in the sentence ("police said", "was charged with"),
  unless the writer reports themselves ("I said", "I'm telling you");
* the match is in quotation marks: double quotes always, single quotes when an
  ``attribution`` word outside them says whose words they are, or when they open the
  comment.

A pattern may also ask for a person named before it (``person``), for no negation inside
it (``no_negation``), switch the sentence guards off (``guarded: false``), or mark a
command (``imperative``: a capital after a comma is a name, "Bain, Fisher, Lynch").
Overlapping matches become one span under the code of the longest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, cached_property

from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.folding import Folded, fold
from rejoinder.core.moderation.matching.grammar import (
    Grammar,
    Pattern,
    Sentence,
    _compiled,
    sentences,
)
from rejoinder.core.moderation.models import Span

_QUOTED = re.compile(r"[\"“”«»„][^\"“”«»„]*[\"“”«»„]")
_SINGLE_QUOTED = re.compile(r"(?<![\w'‘’])['‘][^'‘’\n]{3,}?['’](?![\w'‘’])")
_NEGATED = re.compile(r"(?<![\w*])(?:not|nt|never|no)(?: [a-z]+)? ?$", re.IGNORECASE)
_NEVER = re.compile("(?!)")


class Phrasebook:
    """The patterns of one data file, compiled on demand, and the guards around them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._data = lexicon.load(name)
        self.grammar = Grammar(self._data)
        self.codes: tuple[str, ...] = tuple(self._data["patterns"])
        # how far past a match an idiom may begin and still explain it ("shoot you| an email")
        self._reach = int(self._data.get("idiom_reach", 12))

    def message(self, code: str) -> str:
        return str(self._data["messages"][code])

    @cached_property
    def patterns(self) -> tuple[Pattern, ...]:
        entries = self._data["patterns"]
        return tuple(
            self.grammar.compile(code, e, f"{code}-{n}")
            for code in self.codes
            for n, e in enumerate(entries[code], 1)
        )

    @cached_property
    def _by_trigger(self) -> tuple[dict[str, list[int]], list[int]]:
        """Which patterns each trigger word can set off, and those that need no trigger."""
        index: dict[str, list[int]] = {}
        always: list[int] = []
        for n, pattern in enumerate(self.patterns):
            if pattern.triggers is None:
                always.append(n)
            else:
                for word in pattern.triggers:
                    index.setdefault(word, []).append(n)
        return index, always

    def _candidates(self, sentence: Sentence) -> list[Pattern]:
        """The patterns the sentence may match, in the file's order (the same as asking
        every pattern's `may_match` and `in_order`, without asking all of them)."""
        index, always = self._by_trigger
        words = sentence.words
        chosen = set(always)
        for word in words:
            chosen.update(index.get(word, ()))
        patterns = self.patterns
        return [
            patterns[n]
            for n in sorted(chosen)
            if patterns[n].may_match(words) and patterns[n].in_order(sentence)
        ]

    def find(self, folded: Folded) -> list[tuple[str, Span]]:
        """Each match in the text, with its code, in order."""
        return [(code, folded.span(start, end)) for code, start, end in self.ranges(folded)]

    def ranges(self, folded: Folded, only: str | None = None) -> list[tuple[str, int, int]]:
        """Each match as its code and its range in the folded text, in order; with ``only``
        (a pattern's id), the matches of that one pattern."""
        quotes = self._quoted(folded.text)
        hits: list[tuple[int, int, str]] = []
        for sentence in sentences(folded, self.grammar.vocabulary):
            for pattern in self._candidates(sentence):
                if only is not None and pattern.id != only:
                    continue
                for match in pattern.regex.finditer(sentence.text):
                    if match.start() == match.end() or not self._keeps(pattern, sentence, match):
                        continue
                    start, end = sentence.folded_range(match.start(), match.end())
                    if not any(a <= start and end <= b for a, b in quotes):
                        hits.append((start, end, pattern.code))
        return [(code, start, end) for start, end, code in _merge(hits)]

    def finder(self, name: str) -> re.Pattern[str]:
        """A list or rule of the file as a whole-word regex; one that never matches if the
        file has no such list."""
        return _finder(self.name, name)

    def _keeps(self, pattern: Pattern, sentence: Sentence, match: re.Match[str]) -> bool:
        text, start, end = sentence.text, match.start(), match.end()
        for idioms in ("idioms", f"{pattern.code}_idioms"):
            if _overlaps(self.finder(idioms), text, start, end + self._reach):
                return False
        if self.finder("soft_verbs").search(match.group()) and self.finder("sports").search(text):
            return False
        if pattern.no_negation and self.finder("negation").search(match.group()):
            return False
        if pattern.person and not self.finder("person_mention").search(text[:start]):
            return False
        if pattern.imperative and text[start] == "," and text[start + 2 : start + 3].isupper():
            return False  # "Bain, Fisher, Lynch": a capital after a comma is a name
        if not pattern.guarded:
            return True
        before = text[:start]
        if self.finder("negative_subject").search(before) or _NEGATED.search(before):
            return False
        outside = before + " | " + text[end:]
        reports = self.finder("reported").finditer(outside)
        return all(_spoken_by_writer(outside, m.start()) for m in reports)

    def _quoted(self, text: str) -> list[tuple[int, int]]:
        """Stretches in quotation marks: someone else's words (the article's, a
        politician's, a slogan). Single quotes count only when something outside them
        attributes them ("the article says") or when they open the comment, since a
        writer may use them for emphasis."""
        quotes = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
        singles = [(m.start(), m.end()) for m in _SINGLE_QUOTED.finditer(text)]
        if singles:
            outside = fold(_SINGLE_QUOTED.sub(" . ", text))
            attribution = self.finder("attribution")
            attributed = any(attribution.search(s.text) for s in sentences(outside, frozenset()))
            opening = text.lstrip()[:1] in "'‘"
            quotes += [(a, b) for a, b in singles if attributed or (opening and a == singles[0][0])]
        return quotes


def compile_all(names: Iterable[str] = ("threats", "insults", "identity")) -> int:
    """Compile every pattern of these phrasebooks now (about 4 s of CPU for both), rather than
    each on the first comment that needs it (up to 0.8 s for that comment). A server does it
    in the background when it starts. Returns how many patterns there are."""
    count = 0
    for name in names:
        for pattern in phrasebook(name).patterns:
            pattern.regex  # noqa: B018 - the property compiles and caches
            count += 1
    return count


def compiled_count() -> int:
    """How many distinct phrase patterns this process has compiled so far."""
    return _compiled.cache_info().currsize


@cache
def phrasebook(name: str) -> Phrasebook:
    """The phrasebook of ``data/<name>.json``, read and built once."""
    return Phrasebook(name)


@cache
def _finder(book: str, name: str) -> re.Pattern[str]:
    grammar = phrasebook(book).grammar
    if not grammar.knows(name):
        return _NEVER
    return grammar.finder(name)


def _spoken_by_writer(text: str, at: int) -> bool:
    """'I said', 'we say': the writer reporting their own words is still the writer;
    'for what he said' is a reason, and 'the man who wrote this' a description."""
    before = text[:at]
    return bool(
        re.search(r"(?<![\w*])(?:i|we|i m|i am|we re|we are)(?:, | )$", before, re.I)
        or re.search(r"(?<![\w*])what(?:ever)? (?:he|she|they|you|it) $", before, re.I)
        or re.search(r"(?<![\w*])(?:who|that) $", before, re.I)
    )


def _overlaps(regex: re.Pattern[str], text: str, start: int, end: int) -> bool:
    return any(m.start() < end and start < m.end() for m in regex.finditer(text))


def _merge(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping matches as one span, under the code of the longest."""
    merged: list[tuple[int, int, str]] = []
    for start, end, code in sorted(hits, key=lambda h: (h[0], -h[1])):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            keep = last[2] if last[1] - last[0] >= end - start else code
            merged[-1] = (last[0], max(last[1], end), keep)
        else:
            merged.append((start, end, code))
    return merged
