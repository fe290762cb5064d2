"""Dehumanising metaphors: people called vermin, parasites, leeches, rats.

The nouns are ordinary words ("rats in the subway"), so one counts only when something
aims it at people (``data/metaphors.json``):

* an evaluative adjective right before it: "a demonic leech", "filthy rats";
* a pointer or a group word right before it: "these rats", "pack of parasites",
  "Zionist rats";
* a subject and a verb to be: "they are parasites", "immigrants are just leeches";
* a capital letter in mid-sentence, naming a group: "controlled by the Rats" (not for
  nouns that are also surnames or titles, like Leech or Parasite, unless plural).
"""

from __future__ import annotations

import re
from functools import cache

from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.folding import Folded, phrase_pattern
from rejoinder.core.moderation.models import Span

_BEFORE = r"(?<![^\W_])"
_AFTER = r"(?![^\W_])"
_GAP = r"(?:[^\w\n.!?;]|_)+"  # between two words of one sentence


def find_metaphors(folded: Folded) -> list[Span]:
    """Spans of dehumanising nouns aimed at people, with the adjective before them if any."""
    found = []
    for match in _noun_pattern().finditer(folded.text):
        noun_start = match.start("noun")
        if match.group("adjective") or _aimed_before(folded.text, match.start()):
            found.append(folded.span(match.start(), match.end()))
        elif _capitalised_in_sentence(folded, noun_start, match.group("noun")):
            found.append(folded.span(noun_start, match.end()))
    return found


def adjective_before(text: str, start: int) -> int:
    """Where an evaluative adjective directly before ``start`` begins, or ``start``."""
    match = _adjective_tail().search(text, max(0, start - 40), start)
    return match.start() if match else start


def _aimed_before(text: str, start: int) -> bool:
    window = text[max(0, start - 60) : start]
    return bool(_pointer_tail().search(window) or _copula_tail().search(window))


def _capitalised_in_sentence(folded: Folded, start: int, noun: str) -> bool:
    original = folded.span(start, start + 1).text
    if not original.isupper():
        return False
    word = folded.source[folded.starts[start] :].split(maxsplit=1)[0]
    if word.isupper() and len(re.sub(r"\W", "", word)) > 1:
        return False  # "RATS" is shouting, not a name
    plural = noun.rstrip().endswith("s") and noun not in _data()["nouns"]
    if not plural and re.sub(r"[\W_]", "", noun) in _data()["surnames"]:
        return False
    before = folded.source[: folded.starts[start]].split("\n")[-1].rstrip()
    return bool(before) and (before[-1].isalnum() or before[-1] == ",")


@cache
def _data() -> dict[str, list[str]]:
    return dict(lexicon.load("metaphors"))


def _alternation(words: list[str]) -> str:
    return "|".join(sorted(map(phrase_pattern, words), key=len, reverse=True))


@cache
def _noun_pattern() -> re.Pattern[str]:
    adjectives = _alternation(_data()["adjectives"])
    nouns = _alternation(_data()["nouns"])
    return re.compile(
        rf"{_BEFORE}(?:(?P<adjective>{adjectives}){_GAP})?(?P<noun>(?:{nouns})(?:e?s)?){_AFTER}"
    )


@cache
def _adjective_tail() -> re.Pattern[str]:
    return re.compile(rf"{_BEFORE}(?:{_alternation(_data()['adjectives'])}){_GAP}$")


@cache
def _pointer_tail() -> re.Pattern[str]:
    pointers = _alternation(_data()["pointers"] + _data()["groups"])
    return re.compile(rf"{_BEFORE}(?:{pointers}){_GAP}(?:(?:a|an|the){_GAP})?$")


@cache
def _copula_tail() -> re.Pattern[str]:
    subjects = _alternation(_data()["subjects"] + _data()["groups"])
    fillers = (
        r"(?:(?:all|just|such|nothing|but|a|an|the|bunch|of|like|real|total|bloody)" + _GAP + ")*"
    )
    return re.compile(
        rf"{_BEFORE}(?:{subjects}){_GAP}(?:are|were|is|r|re|s|be|being){_GAP}{fillers}$"
    )
