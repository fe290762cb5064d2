"""Phase "identity": sweeping attacks on a whole people, faith or group.

The words phase holds slurs and vermin aimed at someone ("Zionist rats"); this phase reads
what is said of a group as such: a group and a demeaning noun or adjective ("Africans are
simply more violent", "Turks are a fifth column", "every Syrian man here is a terrorist"),
a group likened to vermin, disease or breeding animals ("they multiply like vermin",
"Muslims ... they are a disease"), the conspiracy trope ("the Jews run the banks"), and
telling a people to go back where it came from. What is said of a state, a government, an
army or a party passes, as do negations ("not all Muslims are terrorists"), reported
claims and myths named as such ("the myth that immigrants are criminals"), quotations, and
sentences that report such words to denounce them (framing.py).
The grammar and its guards live in ``data/identity.json`` (see grammar.py and
phrasebook.py), matched on the folded text like the other phrase phases.

A match holds the comment; ``Policy.pattern_actions`` may make it refuse
(``{"identity_attack": "refuse"}``).
"""

from __future__ import annotations

from rejoinder.core.messages import Message
from rejoinder.core.moderation.matching.folding import Folded, fold
from rejoinder.core.moderation.matching.framing import frames, inside
from rejoinder.core.moderation.matching.phrasebook import phrasebook
from rejoinder.core.moderation.models import Action, Policy, Signal, Span, Submission
from rejoinder.core.moderation.phrasing import quoted_words

PHASE = "identity"
CODE = "identity_attack"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    denounced = frames(sub.text)
    spans = tuple(s for s in find_identity_attacks(fold(sub.text)) if not inside(s, denounced))
    if not spans:
        return []
    message = Message(phrasebook("identity").message(CODE), {"words": quoted_words(spans)})
    action = policy.pattern_actions.get(CODE, Action.HOLD)
    return [Signal.said(PHASE, CODE, message, action, spans=spans)]


def find_identity_attacks(folded: Folded) -> list[Span]:
    """Each attack on a group the grammar finds in the text, in order."""
    return [span for _, span in phrasebook("identity").find(folded)]
