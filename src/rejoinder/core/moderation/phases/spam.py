"""Phase "spam": spam patterns, each a signal with its words, never a hidden score.

Money talk ("$85 per hour"), work from home, calls to action ("click here") and a link
are the commercial signs: any one alone is only noted (people discuss wages and remote
work), and ``Policy.spam_signs_to_hold`` of them together hold the comment. Shouting
(a comment mostly in capitals, or a long run of capitalised words) and repeated
characters ("!!!!!!", "soooooo") are tone, not spam: noted for the moderator unless the
site's ``pattern_actions`` say otherwise (``{"shouting": "hold"}``).
"""

from __future__ import annotations

import re
from functools import cache

from rejoinder.core.messages import N_, Message
from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.folding import Folded, fold
from rejoinder.core.moderation.models import Action, Policy, Signal, Span, Submission
from rejoinder.core.moderation.phases.links import find_links

PHASE = "spam"

_MESSAGES = {
    "money": N_("it talks about money: {words}").template,
    "work_from_home": N_("it offers work from home: {words}").template,
    "call_to_action": N_("it tells readers to go somewhere: {words}").template,
    "shouting": N_("it is written in capitals").template,
    "repeated_chars": N_("it repeats characters: {words}").template,
}
_COMMERCIAL = ("money", "work_from_home", "call_to_action")
_REPEATS = re.compile(r"([^\s\d.\-_=*~#])\1{4,}")  # five or more of one character
_CAPS_RUN = re.compile(r"\b[A-Z][A-Z'’]+(?:[^\w\n]+[A-Z][A-Z'’]+){4,}\b")  # five capital words


def check(sub: Submission, policy: Policy) -> list[Signal]:
    folded = fold(sub.text, words=False)
    found: dict[str, list[Span]] = {}
    for code in _COMMERCIAL:
        spans = [folded.span(*m.span()) for p in _patterns(code) for m in p.finditer(folded.text)]
        if spans:
            found[code] = _merge(spans)
    if shouted := _shouting(sub.text, folded):
        found["shouting"] = shouted
    repeats = [folded.span(*m.span()) for m in _REPEATS.finditer(folded.text)]
    if repeats:
        found["repeated_chars"] = repeats
    signals = [
        Signal.said(
            PHASE,
            code,
            _message(code, spans),
            policy.pattern_actions.get(code, Action.NOTE),
            spans=tuple(spans),
        )
        for code, spans in found.items()
    ]
    signs = [code for code in _COMMERCIAL if code in found]
    links = find_links(sub.text)
    needed = policy.spam_signs_to_hold
    if needed and signs and len(signs) + (1 if links else 0) >= needed:
        named = [_message(code, found[code]) for code in signs]
        if links:
            named.append(N_("it has a link"))
        message = N_("it looks like spam: {signs}", signs=tuple(named))
        pointed = tuple(s for code in signs for s in found[code]) + tuple(x.span for x in links)
        signals.append(Signal.said(PHASE, "spam", message, Action.HOLD, spans=pointed))
    return signals


def _shouting(text: str, folded: Folded) -> list[Span]:
    """The whole text when most of its (20 or more) letters are capitals, else long caps runs."""
    upper, lower = sum(map(str.isupper, text)), sum(map(str.islower, text))
    if upper + lower >= 20 and upper >= 0.7 * (upper + lower):
        start = len(text) - len(text.lstrip())
        stripped = text.strip()
        return [Span(start, start + len(stripped), stripped)]
    return [Span(m.start(), m.end(), m.group()) for m in _CAPS_RUN.finditer(text)]


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping matches of several patterns, once each."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start < out[-1].end:
            continue
        out.append(span)
    return out


def _message(code: str, spans: list[Span]) -> Message:
    words = ", ".join(f'"{s.text}"' for s in spans[:3])
    return Message(_MESSAGES[code], {"words": words})


@cache
def _patterns(code: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in lexicon.load("spam")[code])
