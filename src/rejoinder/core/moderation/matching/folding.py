"""Fold text to a plain lowercase skeleton that defeats evasion, keeping a map to the original.

``fold(text)`` undoes, in this order, one character at a time:

1. invisible characters (zero-width spaces and joiners, soft hyphens, the BOM, bidi
   controls: every Unicode "format" character, and the Hangul fillers) are dropped;
2. NFKC turns fullwidth, mathematical, circled and superscript letters into plain ones;
3. NFD then drops the combining marks (``é`` -> ``e``, stacked "Zalgo" marks vanish);
4. lookalikes from other scripts become the Latin letter they imitate (Cyrillic ``а``,
   Greek ``ο``, small capitals: ``data/confusables.json``), and everything is lowercased.

With ``words=True`` (the default) three steps that need context follow:

5. letters spaced out to dodge a filter are joined: three or more single characters
   parted by the same separator each time (``i d i o t``, ``i.d.i.o.t``, ``i-d-i-o-t``);
6. leetspeak becomes letters inside words that have a real letter (``1d10t`` -> ``idiot``,
   while ``101`` stays a number; ``data/leet.json``);
7. runs of one letter are cut to two (``idiooooot`` -> ``idioot``).

The patterns of :func:`compile_phrases` then let each letter repeat and punctuation split
a word (``id.iot``), so repeats match without ``as`` ever folding into ``ass``. Every
character of the folded text remembers the span of the original it came from, so a match
on the skeleton is reported in the writer's own characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.models import Span

_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # invisible letters and blanks


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text, and for each of its characters the original characters it came from."""

    source: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    joined: tuple[tuple[int, int], ...] = ()  # folded ranges of letters that were spaced out

    def span(self, start: int, end: int, field: str = "text") -> Span:
        """The original span behind folded characters ``start:end`` (end > start)."""
        first, last = self.starts[start], self.ends[end - 1]
        return Span(first, last, self.source[first:last], field)


@lru_cache(maxsize=64)  # each phase folds the same text; the result is immutable
def fold(text: str, *, words: bool = True) -> Folded:
    """The skeleton of ``text``; see the module docstring for the steps."""
    if words and _plain(text):
        length = len(text)
        return Folded(text, text.lower(), tuple(range(length)), tuple(range(1, length + 1)))
    chars, starts, ends = _fold_chars(text)
    joined: tuple[tuple[int, int], ...] = ()
    if words:
        chars, starts, ends, joined = _join_spaced_letters(chars, starts, ends)
        chars = _undo_leet(chars)
        chars, starts, ends, joined = _squeeze_runs(chars, starts, ends, joined)
    return Folded(text, "".join(chars), tuple(starts), tuple(ends), joined)


def _plain(text: str) -> bool:
    """Whether folding only lowers the case of ``text``: ASCII, with no character leetspeak
    could stand for, no letters spaced out and no letter three times in a row."""
    if not text.isascii():
        return False
    lower = text.lower()
    return (
        _leet()[0].keys().isdisjoint(lower)
        and _SPACED.search(lower) is None
        and _RUN.search(lower) is None
    )


def _fold_chars(text: str) -> tuple[list[str], list[int], list[int]]:
    """Steps 1-4, one character at a time, with each output character's original span."""
    if text.isascii():  # nothing to fold but case: the common case, made fast
        return list(text.lower()), list(range(len(text))), list(range(1, len(text) + 1))
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if not folded:
            if ends and ends[-1] == index and unicodedata.category(char) in ("Mn", "Me"):
                ends[-1] = index + 1  # a span ending on "é" written as e + accent keeps the accent
            continue
        for piece in folded:
            chars.append(piece)
            starts.append(index)
            ends.append(index + 1)
    return chars, starts, ends


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    if char in _FILLERS or unicodedata.category(char) == "Cf":
        return ""
    confusables = _confusables()
    out: list[str] = []
    for compat in unicodedata.normalize("NFKC", char):
        for base in unicodedata.normalize("NFD", confusables.get(compat, compat)):
            if unicodedata.category(base) in ("Mn", "Me"):
                continue
            for lower in confusables.get(base, base).casefold():
                out.append(confusables.get(lower, lower))
    return "".join(out)


@cache
def _confusables() -> dict[str, str]:
    return lexicon.table("confusables")


@cache
def _leet() -> tuple[dict[str, str], frozenset[str]]:
    data = lexicon.load("leet")
    return dict(data["map"]), frozenset(data["inner_only"])


_SINGLE = r"(?:[^\W_]|[@$!|+€£])"
_NOT_WORD_BEFORE = r"(?<![^\W_])(?<![@$!|+€£])"
_NOT_WORD_AFTER = r"(?![^\W_])(?![@$!|+€£])"
_SEPARATOR = r"[ \t.\-_*~·•/\\,:;'\"^=]"
# Three or more single characters parted by the same separator each time ("e.g. i.e." is not).
_SPACED = re.compile(
    rf"{_NOT_WORD_BEFORE}{_SINGLE}(?P<sep>{_SEPARATOR}{{1,3}}){_SINGLE}{_NOT_WORD_AFTER}"
    rf"(?:(?P=sep){_SINGLE}{_NOT_WORD_AFTER})+"
)


def _join_spaced_letters(
    chars: list[str], starts: list[int], ends: list[int]
) -> tuple[list[str], list[int], list[int], tuple[tuple[int, int], ...]]:
    """Drop the separators between single letters written apart: ``i d i o t`` -> ``idiot``."""
    text = "".join(chars)
    drop: set[int] = set()
    runs: list[tuple[int, int]] = []
    for match in _SPACED.finditer(text):
        if sum(c.isalpha() for c in match.group()) < 2:  # "1 2 3" is a count, not a word
            continue
        separators = [
            i for i in range(match.start(), match.end()) if re.fullmatch(_SEPARATOR, text[i])
        ]
        drop.update(separators)
        runs.append((match.start(), match.end()))
    if not drop:
        return chars, starts, ends, ()
    keep = [i for i in range(len(chars)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
    joined = tuple((new_index[a], new_index[b - 1] + 1) for a, b in runs)
    return [chars[i] for i in keep], [starts[i] for i in keep], [ends[i] for i in keep], joined


_RUN = re.compile(r"([^\W\d_])\1{2,}")


def _squeeze_runs(
    chars: list[str], starts: list[int], ends: list[int], joined: tuple[tuple[int, int], ...]
) -> tuple[list[str], list[int], list[int], tuple[tuple[int, int], ...]]:
    """Cut runs of one letter to their first and last (``idiooooot`` -> ``idioot``).

    The patterns let every letter repeat, so this changes no match; it keeps the matching
    linear on "aaaa…", and a match still spans the whole run in the original.
    """
    text = "".join(chars)
    drop: set[int] = set()
    for match in _RUN.finditer(text):
        drop.update(range(match.start() + 1, match.end() - 1))
    if not drop:
        return chars, starts, ends, joined
    keep = [i for i in range(len(chars)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
    moved = tuple((new_index[a], new_index[b - 1] + 1) for a, b in joined)
    return [chars[i] for i in keep], [starts[i] for i in keep], [ends[i] for i in keep], moved


_CHUNK = re.compile(r"[a-z0-9@$!|+€£]+")


def _undo_leet(chars: list[str]) -> list[str]:
    """Map digits and symbols to letters inside words that have at least one real letter."""
    leet, inner_only = _leet()
    text = "".join(chars)
    out = list(chars)
    for chunk in _CHUNK.finditer(text):
        word = chunk.group()
        if not any("a" <= c <= "z" for c in word):
            continue
        for offset, char in enumerate(word):
            if char not in leet:
                continue
            following = word[offset + 1 : offset + 2]
            if char in inner_only and not following.isalnum():
                continue  # "idiot!" and "wow!!" are punctuation; "sh!t" hides a letter
            out[chunk.start() + offset] = leet[char]
    return out


# Between the letters of one word: punctuation or symbols, never a space ("id.iot", "i*d*iot").
_INNER = r"(?:[^\w\s'’]|_)*"
# Between the words of a phrase: anything but a letter or digit, or nothing ("brain-dead").
_BETWEEN = r"(?:[^\w]|_)*"
_BEFORE = r"(?<![^\W_])"
_AFTER = r"(?![^\W_])"


@lru_cache(maxsize=4096)
def phrase_pattern(phrase: str) -> str:
    """A regex for ``phrase`` on folded text: each letter may repeat, punctuation may split
    a word, and the last word may take a plural ``s``/``es``."""
    words = re.findall(r"[^\W_]+", fold(phrase).text)
    return _BETWEEN.join(_INNER.join(re.escape(c) + "+" for c in word) for word in words)


@lru_cache(maxsize=256)
def compile_phrases(phrases: tuple[str, ...], *, bounded: bool = True) -> re.Pattern[str] | None:
    """One regex matching any of ``phrases`` on folded text, longest phrases first.

    ``bounded`` patterns match whole words only (so "class" never matches "ass"); the
    unbounded form is for letters that were spaced out (``y o u i d i o t``), where the
    word boundaries were lost on purpose by the writer.
    """
    patterns = sorted({p for p in map(phrase_pattern, phrases) if p}, key=len, reverse=True)
    if not patterns:
        return None
    body = "|".join(patterns)
    if bounded:
        return re.compile(rf"{_BEFORE}(?:{body})(?:e?s)?{_AFTER}")
    return re.compile(rf"(?:{body})(?:e?s)?")


def find_phrases(folded: Folded, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    """Folded ranges where any phrase occurs: whole words, plus inside spaced-out letters."""
    bounded = compile_phrases(phrases, bounded=True)
    if bounded is None:
        return []
    found = [(m.start(), m.end()) for m in bounded.finditer(folded.text)]
    unbounded = compile_phrases(phrases, bounded=False)
    assert unbounded is not None
    for start, end in folded.joined:
        for m in unbounded.finditer(folded.text, start, end):
            if not any(a < m.end() and m.start() < b for a, b in found):
                found.append((m.start(), m.end()))
    return sorted(found)


def skeleton(text: str) -> str:
    """Letters and digits of the folded text only: for comparing names and texts."""
    return "".join(c for c in fold(text).text if c.isalnum())
