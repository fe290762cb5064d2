"""Phase "trust": a margin for commenters with a good record, and the premoderation modes.

A commenter with at least ``trust_min_approved`` approved comments (and at most one
rejection by a moderator for every ten approvals) gets a margin: a model hold whose score
is less than ``trust_margin`` above the threshold is excused, so a regular's borderline
comment appears at once. Only the model's holds are excused: word lists, links, rates
and bans treat everyone alike. Then the site's mode may hold comments from new
commenters, comments with links, or everything, for a moderator to see first.
"""

from __future__ import annotations

from rejoinder.core.messages import N_
from rejoinder.core.moderation.models import Action, History, Mode, Policy, Signal, Submission
from rejoinder.core.moderation.phases.links import find_links
from rejoinder.core.moderation.phases.model_scores import code_for
from rejoinder.core.moderation.times import plural

PHASE = "trust"


def is_trusted(history: History, policy: Policy) -> bool:
    return (
        history.approved >= policy.trust_min_approved and history.rejected * 10 <= history.approved
    )


def check(sub: Submission, policy: Policy) -> list[Signal]:
    signals = [*_margin(sub, policy)]
    if policy.mode is Mode.PREMODERATE_ALL:
        message = N_("this site reviews every comment before it appears")
        signals.append(Signal.said(PHASE, "premoderate_all", message, Action.HOLD))
    elif policy.mode is Mode.PREMODERATE_NEW and sub.history.approved == 0:
        message = N_("this site reviews a commenter's first comment before it appears")
        signals.append(Signal.said(PHASE, "premoderate_new", message, Action.HOLD))
    elif policy.mode is Mode.PREMODERATE_LINKS and (links := find_links(sub.text)):
        message = N_("this site reviews comments with links before they appear")
        spans = tuple(link.span for link in links)
        signals.append(Signal.said(PHASE, "premoderate_links", message, Action.HOLD, spans=spans))
    return signals


def _margin(sub: Submission, policy: Policy) -> list[Signal]:
    if not sub.model_scores or not is_trusted(sub.history, policy):
        return []
    signals = []
    for category, threshold in policy.thresholds.items():
        result = sub.model_scores.get(category)
        if result is None or result.score < threshold.hold:
            continue
        if threshold.refuse is not None and result.score >= threshold.refuse:
            continue
        if result.score < threshold.hold + policy.trust_margin:
            message = (
                f"the writer has {plural(sub.history.approved, 'approved comment')}, so a "
                f"borderline {category.replace('_', ' ')} score ({result.score:.2f}, held "
                f"from {threshold.hold:.2f}) is let through"
            )
            signals.append(
                Signal(
                    PHASE,
                    "trusted",
                    message,
                    Action.EXCUSE,
                    score=result.score,
                    excuses=(code_for(category),),
                )
            )
    return signals
