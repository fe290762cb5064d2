"""Phase "empty": a comment with nothing visible in it is refused, whatever else it has."""

from __future__ import annotations

from rejoinder.core.messages import N_
from rejoinder.core.moderation.matching.folding import fold
from rejoinder.core.moderation.models import Action, Policy, Signal, Submission

PHASE = "empty"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    """Refuse a text that is empty once spaces and invisible characters are taken away.

    Validation refuses an empty body before moderation runs; this phase makes ``decide``
    complete on its own (imports, the check API) and also catches text made only of
    zero-width characters, which validation lets through.
    """
    if fold(sub.text, words=False).text.strip():
        return []
    return [Signal.said(PHASE, "empty", N_("the comment is empty"), Action.REFUSE)]
