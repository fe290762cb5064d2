"""Phase "closed": no comments on a discussion that is closed, by its flag or by its age.

The rule itself is `core.discussion.openness`, which posting, the page and the API ask too.
"""

from __future__ import annotations

from rejoinder.core.discussion import openness
from rejoinder.core.moderation.models import Action, Policy, Signal, Submission

PHASE = "closed"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    """Refuse when the article's comments are closed, or closed by age (``close_after_days``)."""
    state = openness(
        comments_open=sub.article.is_open,
        published_at=sub.article.published_at,
        reopened_at=sub.article.reopened_at,
        close_after_days=policy.close_after_days,
        now=sub.now,
    )
    if state.closed_by is None:
        return []
    message = state.message(policy.close_after_days)
    return [Signal.said(PHASE, state.closed_by.value, message, Action.REFUSE)]
