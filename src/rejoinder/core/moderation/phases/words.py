"""Phase "words": the site's refuse and hold lists, group-name blends, dehumanising metaphors.

Everything is matched on the folded text (normalise.py), so one plain spelling in a list
covers leetspeak, spaced-out letters, lookalike letters, repeats and a plural, while
whole-word matching keeps "class", "Scunthorpe" and "therapist" clean. Each signal quotes
the writer's own words: adjacent matches are joined and an adjective before them is
kept, so the message says 'it calls people "brain dead halfwits"', not "idiot detected".
The name is checked against the refuse list too. Held words that lie in a sentence that
reports someone else's words and denounces them (framing.py) hold nothing; refused words
still refuse. A slur that a group uses of itself, in a comment whose writer says they belong
to that group (``data/own_group.json``), is held for a moderator instead of refused: the
writer may be reclaiming it, and only a person can tell.
"""

from __future__ import annotations

import functools
import re

from rejoinder.core.messages import N_, Message
from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.blends import find_blends
from rejoinder.core.moderation.matching.folding import Folded, find_phrases, fold
from rejoinder.core.moderation.matching.framing import frames, inside
from rejoinder.core.moderation.matching.metaphors import adjective_before, find_metaphors
from rejoinder.core.moderation.models import Action, Policy, Signal, Span, Submission, WordLists
from rejoinder.core.moderation.phrasing import quoted_words

PHASE = "words"

_DEFAULT_MESSAGE = {
    "refuse": N_("it uses {words}, which this site does not allow").template,
    "hold": N_("it uses {words}, which this site looks at before publishing").template,
}


def check(sub: Submission, policy: Policy) -> list[Signal]:
    folded = fold(sub.text)
    denounced = frames(sub.text)
    signals = []
    for kind, action, lists in (
        ("refuse", Action.REFUSE, policy.refuse_words),
        ("hold", Action.HOLD, policy.hold_words),
    ):
        for category, phrases in _lists(kind, lists).items():
            spans = _phrase_spans(folded, phrases)
            if action is Action.HOLD:  # a refusal stands even when the words are reported
                spans = [span for span in spans if not inside(span, denounced)]
            elif category == "slur" and spans:
                own = [span for span in spans if _said_of_own_group(sub.text, span)]
                spans = [span for span in spans if span not in own]
                if own:
                    template = str(lexicon.load("own_group")["message"])
                    message = Message(template, {"words": quoted_words(own)})
                    signals.append(
                        Signal.said(PHASE, "slur_own_group", message, Action.HOLD, spans=tuple(own))
                    )
            if spans:
                template = lexicon.message(kind, category, _DEFAULT_MESSAGE[kind])
                message = Message(template, {"words": quoted_words(spans)})
                signals.append(Signal.said(PHASE, category, message, action, spans=tuple(spans)))
    signals.extend(_name_signals(sub, policy))
    blends = find_blends(folded)
    for group in dict.fromkeys(group for _, group in blends):
        twisted = tuple(span for span, g in blends if g == group)
        template = str(lexicon.load("blends")["message"])
        message = Message(template, {"group": group, "words": quoted_words(twisted)})
        signals.append(Signal.said(PHASE, "blend", message, Action.HOLD, spans=twisted))
    metaphors = [span for span in find_metaphors(folded) if not inside(span, denounced)]
    if metaphors:
        template = str(lexicon.load("metaphors")["message"])
        message = Message(template, {"words": quoted_words(metaphors)})
        signals.append(
            Signal.said(PHASE, "dehumanising", message, Action.HOLD, spans=tuple(metaphors))
        )
    return signals


def _said_of_own_group(text: str, span: Span) -> bool:
    """Whether the slur at `span` is one its group uses of itself and the comment's writer
    says they belong to that group."""
    slur = fold(span.text)
    claims = _group_claims()
    return any(
        find_phrases(slur, (word,)) and claims[word].search(text.casefold().replace("\u2019", "'"))
        for word in claims
    )


@functools.cache
def _group_claims() -> dict[str, re.Pattern[str]]:
    """For each slur of ``data/own_group.json``, a pattern of its writer naming the group as
    their own: a claim ('as a', 'we', 'all of us') followed by one of the group's words."""
    data = lexicon.load("own_group")
    claims = "|".join(re.escape(c) for c in sorted(data["claims"], key=len, reverse=True))
    return {
        slur: re.compile(
            rf"(?<![\w'])(?:{claims})\s+(?:proud\s+)?(?:{'|'.join(map(re.escape, words))})\b"
        )
        for slur, words in data["slurs"].items()
    }


def _lists(kind: str, lists: WordLists | None) -> WordLists:
    return lexicon.word_lists(kind) if lists is None else lists


def _phrase_spans(folded: Folded, phrases: tuple[str, ...], field: str = "text") -> list[Span]:
    """Matches joined when only spaces or hyphens part them, each with its adjective."""
    ranges: list[list[int]] = []
    for start, end in find_phrases(folded, phrases):
        if ranges and re.fullmatch(r"[\s\-]*", folded.text[ranges[-1][1] : start]):
            ranges[-1][1] = end
        else:
            ranges.append([adjective_before(folded.text, start), end])
    return [folded.span(start, end, field) for start, end in ranges]


def _name_signals(sub: Submission, policy: Policy) -> list[Signal]:
    folded = fold(sub.name)
    signals = []
    for category, phrases in _lists("refuse", policy.refuse_words).items():
        if spans := _phrase_spans(folded, phrases, "name"):
            message = N_(
                "the name uses words this site does not allow: {words}", words=quoted_words(spans)
            )
            signals.append(
                Signal.said(PHASE, f"name_{category}", message, Action.REFUSE, spans=tuple(spans))
            )
    return signals
