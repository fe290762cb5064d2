"""A text as sentences of keys: the words the grammar (grammar.py) is matched against.

The folded text (folding.py: lookalikes, leetspeak, spaced letters, repeats undone) is cut
into sentences and words, and each word is reduced to a key: apostrophes dropped, doubled
vowels made single ("I'll" -> i, ll; "kiiill" -> kil), a starred vowel restored when one
vowel makes a word the grammar knows ("b*llet" -> bulet). A sentence is written as its keys
parted by one space, or by ", " where a comma, colon or dash parted them, after a "§" that
marks its start; a capitalised word keeps its capital, so a rule can ask for a name. The
grammar's own phrases get the same keys, so a match maps back, word by word, to the
writer's own characters.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from rejoinder.core.moderation.matching.folding import Folded, fold

_SENTENCE = re.compile(r"[^.!?;\n]+")
_TOKEN = re.compile(r"(?:[^\W_]|['’*])+")
_DOUBLED_VOWEL = re.compile(r"([aeiouy])\1+")
_CLAUSE_BREAK = re.compile(r"[,:—–()\"“”]|\s-\s")


# Contractions written without their apostrophe, split like the ones written with it.
_BARE_CONTRACTIONS = {
    "im": "i'm",
    "ive": "i've",
    "ill": "i'll",
    "youre": "you're",
    "youve": "you've",
    "youll": "you'll",
    "youd": "you'd",
    "theyre": "they're",
    "theyll": "they'll",
    "theyve": "they've",
    "theyd": "they'd",
    "hes": "he's",
    "shes": "she's",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "cant": "can't",
    "wont": "won't",
    "isnt": "isn't",
    "arent": "aren't",
    "wasnt": "wasn't",
    "werent": "weren't",
    "shouldnt": "shouldn't",
    "wouldnt": "wouldn't",
    "couldnt": "couldn't",
    "mustnt": "mustn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "hadnt": "hadn't",
    "aint": "ain't",
    "lets": "let's",
    "whats": "what's",
    "thats": "that's",
    "theres": "there's",
    "whos": "who's",
    "heres": "here's",
    "someones": "someone's",
    "somebodys": "somebody's",
    "itll": "it'll",
    "thatll": "that'll",
}


def word_keys(word: str) -> list[str]:
    """A word's keys: lowercase, split at an apostrophe ("I'll" -> i, ll; "won't" -> wo,
    nt; "senator's" -> senator, s), doubled vowels made single ("kiiill" -> kill)."""
    word = word.lower().replace("’", "'").strip("'")
    word = _BARE_CONTRACTIONS.get(word, word)
    if word[:2] in ("1'", "!'"):  # "1'm", "1'll": leetspeak for I, left alone by fold
        word = "i" + word[1:]
    parts = [word[:-3], "nt"] if word.endswith("n't") else word.split("'")
    return [_DOUBLED_VOWEL.sub(r"\1", part) for part in parts if part]


@lru_cache(maxsize=65536)
def _cached_keys(word: str) -> tuple[str, ...]:
    """`word_keys`, remembered: a comment's words are mostly the same few thousand."""
    return tuple(word_keys(word))


def keys(phrase: str) -> list[str]:
    """The keys of a phrase's words, folded the way a comment is."""
    return list(_phrase_keys(phrase))


@cache
def _phrase_keys(phrase: str) -> tuple[str, ...]:
    return tuple(k for w in _TOKEN.findall(fold(phrase).text) for k in _cached_keys(w))


@dataclass(frozen=True)
class Sentence:
    """One sentence as keys (``text``: "§ key key, key"), and where each key's word lies
    in the folded text."""

    text: str
    key_starts: tuple[int, ...]  # offset of each word in ``text``
    folded_starts: tuple[int, ...]  # and the folded range of that word
    folded_ends: tuple[int, ...]

    @cached_property
    def words(self) -> frozenset[str]:
        """The sentence's keys, lowercase."""
        return frozenset(self.positions)

    @cached_property
    def positions(self) -> dict[str, list[int]]:
        """Each key (lowercase) and where it stands among the sentence's words."""
        out: dict[str, list[int]] = {}
        for n, key in enumerate(self.text.lower().replace(",", " ").split()[1:]):
            out.setdefault(key, []).append(n)
        return out

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The keys in order, as written in ``text`` (a name keeps its capital)."""
        return tuple(self.text[1:].replace(",", " ").split())

    @cached_property
    def lower(self) -> tuple[str, ...]:
        return tuple(key.lower() for key in self.keys)

    @cached_property
    def ends(self) -> tuple[int, ...]:
        """Where each key ends in ``text``."""
        pairs = zip(self.key_starts, self.keys, strict=True)
        return tuple(start + len(key) for start, key in pairs)

    @cached_property
    def comma(self) -> tuple[bool, ...]:
        """Whether a comma (a clause break) comes right before each key."""
        return tuple(self.text[start - 2] == "," for start in self.key_starts)

    @cached_property
    def memo(self) -> dict[object, object]:
        """What the matcher learnt about this sentence (a word list's matches at a word)."""
        return {}

    def folded_range(self, start: int, end: int) -> tuple[int, int]:
        """The folded range of the words that ``text[start:end]`` covers."""
        first = next(i for i, s in enumerate(self.key_starts) if s >= start)
        last = max(i for i, s in enumerate(self.key_starts) if s < end)
        return self.folded_starts[first], self.folded_ends[last]


def sentences(folded: Folded, vocabulary: frozenset[str]) -> tuple[Sentence, ...]:
    """The folded text as sentences of keys, a capital kept on a capitalised word (not on
    one written all in capitals) for names. Letters that were
    spaced out ("i w i l l k i l l y o u") come out of fold() as one run; such a run is
    cut back into the words the grammar knows, when it can be cut into them whole."""
    if not folded.joined and "*" not in folded.text:
        # Only spaced-out runs and starred vowels need the grammar's vocabulary: without
        # them every grammar gets the same sentences, made once for the three phases.
        return _plain_sentences(folded)
    return _sentences(folded, vocabulary)


@lru_cache(maxsize=16)
def _plain_sentences(folded: Folded) -> tuple[Sentence, ...]:
    return _sentences(folded, frozenset())


def _sentences(folded: Folded, vocabulary: frozenset[str]) -> tuple[Sentence, ...]:
    out = []
    joined_starts = [start for start, _ in folded.joined]  # in order, not overlapping
    for sentence in _SENTENCE.finditer(folded.text):
        parts: list[str] = ["§"]  # a clause start a pattern can ask for with ^
        key_starts: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        length = 1
        previous_end = sentence.start()
        for token in _TOKEN.finditer(folded.text, sentence.start(), sentence.end()):
            written = folded.source[folded.starts[token.start()] : folded.ends[token.end() - 1]]
            capital = written[:1].isupper() and not (len(written) > 1 and written.isupper())
            found: Sequence[str] = _cached_keys(token.group())
            if len(found) == 1 and _is_joined(folded, joined_starts, token.start(), token.end()):
                found = _segment(found[0], vocabulary) or found
            for index, word in enumerate(found):
                word = _unmask(word, vocabulary)
                if not word:
                    continue
                if index == 0 and capital and word[0].isalpha():
                    word = word[0].upper() + word[1:]
                between = folded.text[previous_end : token.start()]
                comma = len(parts) > 1 and index == 0 and _CLAUSE_BREAK.search(between)
                parts.append(", " if comma else " ")
                length += len(parts[-1])
                key_starts.append(length)
                parts.append(word)
                length += len(word)
                starts.append(token.start())
                ends.append(token.end())
            previous_end = token.end()
        if key_starts:
            out.append(Sentence("".join(parts), tuple(key_starts), tuple(starts), tuple(ends)))
    return tuple(out)


def _is_joined(folded: Folded, joined_starts: list[int], start: int, end: int) -> bool:
    """Whether ``start:end`` lies inside one run of spaced-out letters (a binary search, so
    a long text with many runs costs no more per word)."""
    index = bisect_right(joined_starts, start) - 1
    return index >= 0 and end <= folded.joined[index][1]


def _segment(run: str, vocabulary: frozenset[str]) -> list[str] | None:
    """``iwillkillyou`` -> i, will, kill, you: the fewest known keys that make the run."""
    if run in vocabulary or len(run) > 40:
        return None
    best: list[list[str] | None] = [[]] + [None] * len(run)
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - 15), end):
            head = best[start]
            piece = run[start:end]
            if head is not None and piece in vocabulary:
                candidate = [*head, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(run)]


#: Stars a word may hide vowels behind ("b*llet", "f**k"): each star tries six vowels, so the
#: candidates grow six-fold per star, and a run of stars ("*********") would take gigabytes.
_MAX_STARS = 3


def _unmask(word: str, vocabulary: frozenset[str]) -> str:
    """'b*let' -> 'bulet' when exactly one vowel for each star makes a known word; a word
    with more than ``_MAX_STARS`` stars loses them instead."""
    if "*" not in word:
        return word
    if word.count("*") > _MAX_STARS:
        return word.replace("*", "")
    candidates = [word]
    for _ in range(word.count("*")):
        candidates = [c.replace("*", v, 1) for c in candidates for v in "aeiouy"]
    known = {k for c in candidates for k in word_keys(c) if len(k) >= 3} & vocabulary
    return next(iter(known)) if len(known) == 1 else word.replace("*", "")
