"""Build submissions for the moderation tests: a clean, ordinary comment unless told otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rejoinder.core.moderation.models import ArticleRef, Submission

NOW = datetime(2024, 5, 6, 12, 0, 0, tzinfo=UTC)
CLEAN = "The council should publish the full traffic figures before the vote."


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def submission(**fields: Any) -> Submission:
    """An ordinary comment by a first-time commenter, sent 60 s after the form was opened."""
    values: dict[str, Any] = {
        "text": CLEAN,
        "name": "Ada Byrne",
        "email": "ada@example.org",
        "article": ArticleRef(id=1, is_open=True, published_at=NOW - timedelta(days=1)),
        "now": NOW,
        "ip_hash": "ip-1",
        "ip_group_hash": "group-1",
        "form_issued_at": ago(60),
    }
    values.update(fields)
    return Submission(**values)
