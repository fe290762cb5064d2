"""Phase "closed": no comments on an article that is closed, or older than the site allows."""

from __future__ import annotations

from datetime import timedelta

from rejoinder.core.messages import N_, Message, Nn_
from rejoinder.core.moderation.models import Action, Policy, Signal, Submission
from rejoinder.core.moderation.times import utc

PHASE = "closed"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    """Refuse when the article's comments are closed, or closed by age (``close_after_days``)."""
    if not sub.article.is_open:
        return [_refuse("closed", N_("comments are closed on this article"))]
    published = sub.article.published_at
    if policy.close_after_days is not None and published is not None:
        closes = utc(published) + timedelta(days=policy.close_after_days)
        if utc(sub.now) >= closes:
            return [
                _refuse(
                    "closed_by_age",
                    Nn_(
                        "comments close {n} day after an article is published, and this one "
                        "closed on {date:%d %B %Y}",
                        "comments close {n} days after an article is published, and this one "
                        "closed on {date:%d %B %Y}",
                        policy.close_after_days,
                        date=closes,
                    ),
                )
            ]
    return []


def _refuse(code: str, message: Message) -> Signal:
    return Signal.said(PHASE, code, message, Action.REFUSE)
