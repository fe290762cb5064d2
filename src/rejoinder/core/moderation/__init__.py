"""Moderation as a pure, ordered pipeline of phases and one policy that decides; see README.md."""

from __future__ import annotations

from rejoinder.core.moderation.models import (
    Action,
    ArticleRef,
    Ban,
    BanKind,
    Decision,
    History,
    Mode,
    ModelScore,
    Policy,
    Profanity,
    RecentActivity,
    Signal,
    Span,
    Submission,
    Threshold,
    Verdict,
)
from rejoinder.core.moderation.phases.duplicates import fingerprint
from rejoinder.core.moderation.phases.model_scores import scores_from
from rejoinder.core.moderation.policy import (
    PHASES,
    combine,
    decide,
    explain,
    explanation,
    reasons_said,
)

__all__ = [
    "PHASES",
    "Action",
    "ArticleRef",
    "Ban",
    "BanKind",
    "Decision",
    "History",
    "Mode",
    "ModelScore",
    "Policy",
    "Profanity",
    "RecentActivity",
    "Signal",
    "Span",
    "Submission",
    "Threshold",
    "Verdict",
    "combine",
    "decide",
    "explain",
    "explanation",
    "fingerprint",
    "reasons_said",
    "scores_from",
]
