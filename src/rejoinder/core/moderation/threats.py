"""Phase "threats": threats of violence and wishes of harm aimed at people.

"I will find you and ...", "someone should shoot him", "you deserve a bullet", "we know
where you live", "hang them all", "they should all be gassed", "I hope your family gets
cancer", "wish someone would run him over". The phrasings are a small grammar in
``data/threats.json`` (who speaks or is called on, a modal, a violent verb, a target; a
target and what should be done to it; a wish and a harm), matched sentence by sentence on
the folded text, so "k1ll", "sh00t", "d i e" and lookalike letters count as the words they
imitate, and every span quotes the writer's own characters.

Guards keep what talks *about* violence: a sentence that reports or quotes ("police said",
"was charged with threatening", "the court heard"), a negative subject or a condition before
the match ("nobody should be shot", "if someone threatened to kill you"), a game or a vote
around a verb that sport borrows ("we'll murder them on Saturday"), and idioms ("shoot the
messenger", "killing it", "I could kill for a coffee"). A quotation that is attributed, or
that opens the comment, is the article's or someone else's words, not the writer's.

A match holds the comment; ``Policy.pattern_actions`` may make a code refuse instead
(``{"threat": "refuse", "wish_of_harm": "refuse"}``).
"""

from __future__ import annotations

import re
from functools import cache

from rejoinder.core.moderation import lexicon
from rejoinder.core.moderation.grammar import Grammar, Pattern, Sentence, sentences
from rejoinder.core.moderation.models import Action, Policy, Signal, Span, Submission
from rejoinder.core.moderation.normalise import Folded, fold
from rejoinder.core.moderation.phrasing import quoted

PHASE = "threats"
CODES = ("threat", "wish_of_harm")

_QUOTED = re.compile(r"[\"“”«»„][^\"“”«»„]*[\"“”«»„]")
_SINGLE_QUOTED = re.compile(r"(?<![\w'‘’])['‘][^'‘’\n]{3,}?['’](?![\w'‘’])")
_NEGATED = re.compile(r"(?<![\w*])(?:not|nt|never|no)(?: [a-z]+)?,? ?$", re.IGNORECASE)


def check(sub: Submission, policy: Policy) -> list[Signal]:
    found = find_threats(fold(sub.text))
    signals = []
    for code in CODES:
        spans = tuple(span for c, span in found if c == code)
        if spans:
            message = _messages()[code].format(words=quoted(spans))
            action = policy.pattern_actions.get(code, Action.HOLD)
            signals.append(Signal(PHASE, code, message, action, spans=spans))
    return signals


def find_threats(folded: Folded) -> list[tuple[str, Span]]:
    """Each threat or wish of harm in the text, with its code, in order."""
    grammar = _grammar()
    quotes = _quoted(folded.text)
    hits: list[tuple[int, int, str]] = []
    for sentence in sentences(folded, grammar.vocabulary):
        words = sentence.words
        for pattern in _patterns():
            if not pattern.may_match(words):
                continue
            for match in pattern.regex.finditer(sentence.text):
                if match.start() == match.end() or not _keeps(pattern, sentence, match):
                    continue
                start, end = sentence.folded_range(match.start(), match.end())
                if not any(a <= start and end <= b for a, b in quotes):
                    hits.append((start, end, pattern.code))
    return [(code, folded.span(start, end)) for start, end, code in _merge(hits)]


def _keeps(pattern: Pattern, sentence: Sentence, match: re.Match[str]) -> bool:
    """Whether a match survives the guards of its sentence."""
    text, start, end = sentence.text, match.start(), match.end()
    if _overlaps(_finder("idioms"), text, start, end + 12):
        return False
    if pattern.code == "wish_of_harm" and _overlaps(_finder("wish_idioms"), text, start, end + 12):
        return False
    if _finder("soft_verbs").search(match.group()) and _finder("sports").search(text):
        return False
    if pattern.no_negation and _finder("negation").search(match.group()):
        return False
    if pattern.person and not _finder("person_mention").search(text[:start]):
        return False
    if pattern.imperative and text[start] == "," and text[start + 2 : start + 3].isupper():
        return False  # "Bain, Fisher, Lynch": a capital after a comma is a name, not a command
    if not pattern.guarded:
        return True
    if _finder("negative_subject").search(text[:start]) or _NEGATED.search(text[:start]):
        return False
    outside = text[:start] + " | " + text[end:]
    return all(_spoken_by_writer(outside, m.start()) for m in _finder("reported").finditer(outside))


def _spoken_by_writer(text: str, at: int) -> bool:
    """'I said', 'we say': the writer reporting their own words is still the writer; and
    'for what he said' is a reason given, not a report."""
    before = text[:at]
    return bool(
        re.search(r"(?<![\w*])(?:i|we|i m|i am|we re|we are)(?:, | )$", before, re.I)
        or re.search(r"(?<![\w*])what(?:ever)? (?:he|she|they|you|it) $", before, re.I)
        or re.search(r"(?<![\w*])(?:who|that) $", before, re.I)
    )


def _overlaps(regex: re.Pattern[str], text: str, start: int, end: int) -> bool:
    return any(m.start() < end and start < m.end() for m in regex.finditer(text))


def _quoted(text: str) -> list[tuple[int, int]]:
    """Stretches in quotation marks: someone else's words (the article's, a politician's,
    a slogan), not the writer's. Single quotes count only when something outside them
    attributes them ("the article says") or when they open the comment, since a writer
    may use them for emphasis."""
    quotes = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    singles = [(m.start(), m.end()) for m in _SINGLE_QUOTED.finditer(text)]
    if singles:
        outside = fold(_SINGLE_QUOTED.sub(" . ", text))
        attributed = any(
            _finder("attribution").search(s.text) for s in sentences(outside, frozenset())
        )
        opening = text.lstrip()[:1] in "'‘"
        quotes += [(a, b) for a, b in singles if attributed or (opening and a == singles[0][0])]
    return quotes


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


@cache
def _messages() -> dict[str, str]:
    return dict(lexicon.load("threats")["messages"])


@cache
def _grammar() -> Grammar:
    return Grammar(lexicon.load("threats"))


@cache
def _patterns() -> tuple[Pattern, ...]:
    grammar = _grammar()
    patterns = lexicon.load("threats")["patterns"]
    return tuple(grammar.compile(code, entry) for code in CODES for entry in patterns[code])


@cache
def _finder(name: str) -> re.Pattern[str]:
    return _grammar().finder(name)
