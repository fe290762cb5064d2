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
from collections.abc import Iterable, Mapping
from functools import cached_property

from rejoinder.core.moderation.matching import lexicon, matcher
from rejoinder.core.moderation.matching.folding import Folded, fold
from rejoinder.core.moderation.matching.grammar import NEVER, Grammar, Pattern
from rejoinder.core.moderation.matching.matcher import Node
from rejoinder.core.moderation.matching.sentences import Sentence, sentences
from rejoinder.core.moderation.models import Span

_QUOTED = re.compile(r"[\"“”«»„][^\"“”«»„]*[\"“”«»„]")
_SINGLE_QUOTED = re.compile(r"(?<![\w'‘’])['‘][^'‘’\n]{3,}?['’](?![\w'‘’])")
_NEGATED = re.compile(r"(?<![\w*])(?:not|nt|never|no)(?: [a-z]+)? ?$", re.IGNORECASE)
_BOOKS = ("threats", "insults", "identity")


class Phrasebook:
    """The patterns of one data file, compiled when it is read, and the guards around them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._data = lexicon.load(name)
        self.grammar = Grammar(self._data)
        self.codes: tuple[str, ...] = tuple(self._data["patterns"])
        # how far past a match an idiom may begin and still explain it ("shoot you| an email")
        self._reach = int(self._data.get("idiom_reach", 12))
        entries = self._data["patterns"]
        self.patterns: tuple[Pattern, ...] = tuple(
            self.grammar.compile(code, e, f"{code}-{n}")
            for code in self.codes
            for n, e in enumerate(entries[code], 1)
        )
        self._guards = {
            name: self.finder(name)
            for name in (
                "idioms",
                *(f"{code}_idioms" for code in self.codes),
                "soft_verbs",
                "sports",
                "negation",
                "person_mention",
                "negative_subject",
                "reported",
                "attribution",
            )
        }

    def message(self, code: str) -> str:
        return str(self._data["messages"][code])

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
                for match in pattern.finditer(sentence):
                    if not self._keeps(pattern, sentence, match):
                        continue
                    start, end = sentence.folded_range(match[2], match[3])
                    if not any(a <= start and end <= b for a, b in quotes):
                        hits.append((start, end, pattern.code))
        return [(code, start, end) for start, end, code in _merge(hits)]

    def finder(self, name: str) -> Node:
        """A list or rule of the file; one that never matches if the file has no such list."""
        return self.grammar.rule(name) if self.grammar.knows(name) else NEVER

    def _keeps(self, pattern: Pattern, s: Sentence, match: tuple[int, int, int, int]) -> bool:
        guards, text = self._guards, s.text
        first, last, start, end = match
        for idioms in ("idioms", f"{pattern.code}_idioms"):
            for found in matcher.finditer(guards[idioms], s):
                if found[2] < end + self._reach and start < found[3]:
                    return False
        if matcher.search(guards["soft_verbs"], s, first, last) and matcher.search(
            guards["sports"], s
        ):
            return False
        if pattern.no_negation and matcher.search(guards["negation"], s, first, last):
            return False
        if pattern.person and not matcher.search(guards["person_mention"], s, 0, first):
            return False
        if pattern.imperative and text[start] == "," and text[start + 2 : start + 3].isupper():
            return False  # "Bain, Fisher, Lynch": a capital after a comma is a name
        if not pattern.guarded:
            return True
        before = text[:start]
        if matcher.search(guards["negative_subject"], s, 0, first) or _NEGATED.search(before):
            return False
        # the rest of the sentence, the match cut out: "before | after"
        outside = before + " | " + text[end:]
        shift = len(before) + 3 - end
        reported = guards["reported"]
        spoken = [found[2] for found in matcher.finditer(reported, s, 0, first)]
        spoken += [found[2] + shift for found in matcher.finditer(reported, s, last)]
        return all(_spoken_by_writer(outside, at) for at in spoken)

    def _quoted(self, text: str) -> list[tuple[int, int]]:
        """Stretches in quotation marks: someone else's words (the article's, a
        politician's, a slogan). Single quotes count only when something outside them
        attributes them ("the article says") or when they open the comment, since a
        writer may use them for emphasis."""
        quotes = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
        singles = [(m.start(), m.end()) for m in _SINGLE_QUOTED.finditer(text)]
        if singles:
            outside = fold(_SINGLE_QUOTED.sub(" . ", text))
            attribution = self._guards["attribution"]
            attributed = any(
                matcher.search(attribution, s) for s in sentences(outside, frozenset())
            )
            opening = text.lstrip()[:1] in "'‘"
            quotes += [(a, b) for a, b in singles if attributed or (opening and a == singles[0][0])]
        return quotes


def build_all(names: Iterable[str] = _BOOKS) -> int:
    """Read and compile every phrasebook now (a server does it before it answers, so no
    comment waits for it). Returns how many patterns there are."""
    return sum(len(phrasebook(name).patterns) for name in names)


def patterns_ready() -> int:
    """How many patterns the phrasebooks this process has built hold."""
    return sum(len(phrasebook(name).patterns) for name in _BOOKS if _built(name))


def all_built() -> bool:
    """Whether every phrasebook is built in this process (or was, in the one it forked from)."""
    return all(_built(name) for name in _BOOKS)


def patterns_total() -> int:
    """How many patterns the shipped phrasebooks hold (read from the files, built or not)."""
    books = (lexicon.load(name)["patterns"] for name in _BOOKS)
    return sum(len(entries) for patterns in books for entries in patterns.values())


def built() -> dict[str, Phrasebook]:
    """The phrasebooks this process has built, by name: what a later start may adopt."""
    return dict(_PHRASEBOOKS)


def adopt(books: Mapping[str, object]) -> bool:
    """Take every phrasebook from an earlier start of the same code and data (see
    `lexicon.digest`). Takes nothing, and says so, unless each one is there."""
    ready = {name: book for name in _BOOKS if isinstance(book := books.get(name), Phrasebook)}
    if len(ready) < len(_BOOKS):
        return False
    _PHRASEBOOKS.update(ready)
    return True


def _built(name: str) -> bool:
    return name in _PHRASEBOOKS


_PHRASEBOOKS: dict[str, Phrasebook] = {}


def phrasebook(name: str) -> Phrasebook:
    """The phrasebook of ``data/<name>.json``, read and built once."""
    book = _PHRASEBOOKS.get(name)
    if book is None:
        book = _PHRASEBOOKS[name] = Phrasebook(name)
    return book


def _spoken_by_writer(text: str, at: int) -> bool:
    """'I said', 'we say': the writer reporting their own words is still the writer;
    'for what he said' is a reason, and 'the man who wrote this' a description."""
    before = text[:at]
    return bool(
        re.search(r"(?<![\w*])(?:i|we|i m|i am|we re|we are)(?:, | )$", before, re.I)
        or re.search(r"(?<![\w*])what(?:ever)? (?:he|she|they|you|it) $", before, re.I)
        or re.search(r"(?<![\w*])(?:who|that) $", before, re.I)
    )


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
