"""Phase "threats": threats of violence, wishes of harm and harassment aimed at people.

"I will find you and ...", "someone should shoot him", "you deserve a bullet", "we know
where you live", "hang them all", "they should all be gassed", "I hope your family gets
cancer", "wish someone would run him over". The phrasings are a small grammar in
``data/threats.json`` (who speaks or is called on, a modal, a violent verb, a target; a
target and what should be done to it; a wish and a harm), matched sentence by sentence on
the folded text, so "k1ll", "sh00t", "d i e" and lookalike letters count as the words they
imitate, and every span quotes the writer's own characters. Wishes of harm include urging
someone to end their life ("the bridge is that way") and gloating over a death or an illness
("one less landlord in the world"). Harassment (``harassment``) needs no violent word: a
person's details found and shown ("found your LinkedIn", "your address is public record"),
their boss or church told ("your employer might enjoy reading this"), a file kept on them,
or being followed from thread to thread ("new account, same me").

Guards (phrasebook.py, with their lists in the same file) keep what talks *about*
violence: a sentence that reports ("police said", "was charged with threatening", "the court
heard"), a negative subject before the match ("nobody should be shot", "what if someone
..."), a game or a vote around a verb that sport borrows ("we'll murder them on Saturday"),
idioms ("shoot the messenger", "killing it", "I could kill for a coffee"), and quotations
(the article's or someone else's words, not the writer's). A sentence that reports someone
else's words and denounces them ("I reported the comment that said ...") holds nothing
(framing.py).

A match holds the comment; ``Policy.pattern_actions`` may make a code refuse instead
(``{"threat": "refuse", "wish_of_harm": "refuse", "harassment": "refuse"}``).
"""

from __future__ import annotations

from rejoinder.core.messages import Message
from rejoinder.core.moderation.matching.folding import Folded, fold
from rejoinder.core.moderation.matching.framing import frames, inside
from rejoinder.core.moderation.matching.phrasebook import phrasebook
from rejoinder.core.moderation.models import Action, Policy, Signal, Span, Submission
from rejoinder.core.moderation.phrasing import quoted_words

PHASE = "threats"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    book = phrasebook("threats")
    denounced = frames(sub.text)
    found = [(c, span) for c, span in find_threats(fold(sub.text)) if not inside(span, denounced)]
    signals = []
    for code in book.codes:
        spans = tuple(span for c, span in found if c == code)
        if spans:
            message = Message(book.message(code), {"words": quoted_words(spans)})
            action = policy.pattern_actions.get(code, Action.HOLD)
            signals.append(Signal.said(PHASE, code, message, action, spans=spans))
    return signals


def find_threats(folded: Folded) -> list[tuple[str, Span]]:
    """Each threat (``threat``), wish of harm (``wish_of_harm``) or act of harassment
    (``harassment``) in the text, in order."""
    return phrasebook("threats").find(folded)
