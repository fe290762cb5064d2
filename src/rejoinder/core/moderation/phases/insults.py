"""Phase "insults": insults aimed at a person, as a grammar rather than a word list.

The words phase holds a comment for the words on its list ("idiot", "moron"); this phase
reads who is called what: the person addressed and an insulting noun or adjective ("you
are a pathetic little troll", "shut up, you snivelling crybaby", "people like you are
morons", "you're about as sharp as a bowling ball"), or a named person and an insulting
noun ("the columnist is a hysterical cow"). Criticism of an idea, a comment or an act
passes: "your argument is stupid", "that decision was idiotic", "the president is a liar",
"you are wrong". The grammar and its guards live in ``data/insults.json`` (see
grammar.py and phrasebook.py), matched on the folded text like the word lists.

A match that holds a word of the site's insult list is left to the words phase, so one
insult is one reason. A match in a sentence that reports someone else's words and denounces
them (framing.py) is dropped. A match holds the comment; ``Policy.pattern_actions`` may say
otherwise (``{"insult_phrase": "refuse"}``).
"""

from __future__ import annotations

from rejoinder.core.messages import Message
from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.folding import Folded, find_phrases, fold
from rejoinder.core.moderation.matching.framing import frames, inside
from rejoinder.core.moderation.matching.phrasebook import phrasebook
from rejoinder.core.moderation.models import Action, Policy, Signal, Span, Submission
from rejoinder.core.moderation.phrasing import quoted_words

PHASE = "insults"
CODE = "insult_phrase"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    folded = fold(sub.text)
    lists = lexicon.word_lists("hold") if policy.hold_words is None else policy.hold_words
    listed = find_phrases(folded, tuple(lists.get("insult", ())))
    denounced = frames(sub.text)
    spans = tuple(
        span
        for _, start, end in phrasebook("insults").ranges(folded)
        if not any(a < end and start < b for a, b in listed)
        and not inside(span := folded.span(start, end), denounced)
    )
    if not spans:
        return []
    message = Message(phrasebook("insults").message("insult"), {"words": quoted_words(spans)})
    action = policy.pattern_actions.get(CODE, Action.HOLD)
    return [Signal.said(PHASE, CODE, message, action, spans=spans)]


def find_insults(folded: Folded) -> list[Span]:
    """Each insult the grammar finds in the text, in order."""
    return [span for _, span in phrasebook("insults").find(folded)]
