"""Where a text names a group of people, and the neutral words that stand in for each mention.

The lexicon is ``data/groups.json`` (its ``_about`` says what it holds). The classifier
scores a comment with every mention replaced (`mentions`), so that the model weighs what is
said of people and not who is named; `names_a_group_only` tells whether a quoted span says
nothing but a group's name. Both read lower-case text (the classifier's normalised text, or
`folding.fold`'s), word by word, so the cost is a few dictionary lookups per word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rejoinder.core.moderation.matching import lexicon

#: A word as the lexicon writes one: letters and digits, joined by hyphens or apostrophes,
#: and a trailing "+" ("lgbtq+").
_WORD = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*\+?")
_POSSESSIVE = ("'s", "’s")
#: The longest entry, in words ("a person with a disability" is five).
_LONGEST = 5
MANY, ONE, ADJECTIVE = "many", "one", "adjective"


@dataclass(frozen=True)
class Mention:
    """Characters [start, end) of the text name a group; `number` is MANY, ONE or ADJECTIVE,
    and `placeholder` the word that stands in for it."""

    start: int
    end: int
    number: str
    placeholder: str


@dataclass(frozen=True)
class _Lexicon:
    entries: dict[tuple[str, ...], str]  # words -> MANY, ONE or ADJECTIVE
    heads: dict[str, str]  # head noun -> MANY or ONE
    head_only: frozenset[str]  # adjectives that name a group only before a head
    nouns_too: frozenset[str]  # adjectives that are nouns as well ("chinese", "muslim")
    ones: frozenset[str]  # singular nouns of one word ("sikh", "nurse")
    placeholder: dict[str, str]
    words: frozenset[str]  # every word of every entry and head
    joined: dict[str, str]  # an adjective and a head as one word -> MANY or ONE


@cache
def _lexicon() -> _Lexicon:
    data = lexicon.load("groups")
    entries: dict[tuple[str, ...], str] = {}
    many: set[str] = set()
    adjectives: set[str] = set()
    ones: set[str] = set()
    for kind in data["kinds"].values():
        for number in (ONE, ADJECTIVE, MANY):  # a word both noun and adjective: see _read
            for entry in kind[number]:
                key = tuple(_WORD.findall(entry))
                entries[key] = number
                if len(key) == 1 and number == MANY:
                    many.add(key[0])
                elif len(key) == 1 and number == ADJECTIVE:
                    adjectives.add(key[0])
                elif len(key) == 1:
                    ones.add(key[0])
    heads = {w: MANY for w in data["heads"]["many"]} | {w: ONE for w in data["heads"]["one"]}
    head_only = frozenset(data["head_only"])
    nouns_too = frozenset((many | ones) & adjectives)
    words = {w for key in entries for w in key} | set(heads) | head_only
    # adjective and head written as one word: "gaypeople", "blackmen"
    joined = {
        a + h: n
        for a in adjectives | head_only | nouns_too
        for h, n in heads.items()
        if "-" not in a
    }
    return _Lexicon(
        entries=entries,
        heads=heads,
        head_only=head_only,
        nouns_too=nouns_too,
        ones=frozenset(ones),
        placeholder=dict(data["placeholder"]),
        words=frozenset(words),
        joined=joined,
    )


def _base(word: str) -> tuple[str, int]:
    """A word without its possessive ending, and how many characters that ending had."""
    for ending in _POSSESSIVE:
        if word.endswith(ending) and len(word) > len(ending) + 1:
            return word[: -len(ending)], len(ending)
    return word, 0


def mentions(text: str) -> list[Mention]:
    """Each mention of a group in a lower-case text, in order, none overlapping: the longest
    entry at each word; an adjective (or several) before a head noun with the head ("gay
    men", "a Black trans woman"); a head-only adjective only so; the adjective and head
    written as one word too ("gaypeople")."""
    lex = _lexicon()
    found = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    words = [_base(w)[0] for _, _, w in found]
    out: list[Mention] = []
    i = 0
    while i < len(words):
        taken = _read(lex, words, i)
        if taken is not None and taken[1] == ADJECTIVE and words[i] != found[i][2]:
            # a possessive is a noun's: "a Sikh's turban"
            taken = (1, ONE if words[i] in lex.ones else MANY)
        if taken is None:
            i += 1
            continue
        length, number = taken
        start = found[i][0]
        end = found[i + length - 1][1] - _base(found[i + length - 1][2])[1]
        out.append(Mention(start, end, number, lex.placeholder[number]))
        i += length
    return out


def _read(lex: _Lexicon, words: list[str], i: int) -> tuple[int, str] | None:
    """(words taken, number) of the mention that starts at word i, or None."""
    # adjectives then a head: "gay men", "black trans women"
    j = i
    while j < len(words) and (
        lex.entries.get((words[j],)) == ADJECTIVE
        or words[j] in lex.head_only
        or words[j] in lex.nouns_too
    ):
        j += 1
    if j > i and j < len(words) and words[j] in lex.heads:
        return j - i + 1, lex.heads[words[j]]
    for length in range(min(_LONGEST, len(words) - i), 0, -1):
        number = lex.entries.get(tuple(words[i : i + length]))
        if number is not None and not (length == 1 and words[i] in lex.head_only):
            if length == 1 and words[i] in lex.nouns_too:
                # "the Chinese are", "being a Muslim", "Roma disgust me": a noun, whatever
                # follows, since no rule tells "Roma music" from "Roma disgust me"
                number = ONE if words[i] in lex.ones else MANY
            return length, number
    joined = lex.joined.get(words[i])
    return None if joined is None else (1, joined)


def names_a_group_only(text: str, ignored: frozenset[str] = frozenset()) -> bool:
    """Whether every word of a lower-case span names a group or is one of `ignored` ("the",
    "all"): it says nothing about the people it names."""
    words = [_base(w)[0] for w in _WORD.findall(text)]
    if not words:
        return False
    lex = _lexicon()
    return all(
        w in ignored or w in lex.words or w.rstrip("s") in lex.words or w in lex.joined
        for w in words
    )
