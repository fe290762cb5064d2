"""Reads for the policy preview: a site's latest comments with what moderation stored on them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from rejoinder.core.models import Status
from rejoinder.store.schema import articles, comments

# What a preview re-judges: comments a reader or a moderator has seen, not withdrawn ones.
SAMPLED = (Status.PUBLISHED.value, Status.HELD.value, Status.REJECTED.value)


@dataclass(frozen=True)
class Sample:
    """One stored comment as the pipeline saw it, and the article it was posted under."""

    id: int
    article_id: int
    article_slug: str
    article_title: str
    article_published_at: datetime
    parent_id: int | None
    status: Status
    author_name: str
    author_email: str
    author_website: str | None
    body: str
    created_at: datetime
    moderation: dict[str, Any]  # the stored decision and scores; {} when none was stored


def _moderation(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def latest_comments(conn: Connection, site_id: int, limit: int = 500) -> list[Sample]:
    """The site's newest published, held and rejected comments, newest first."""
    query = (
        select(
            comments.c.id,
            comments.c.article_id,
            articles.c.slug,
            articles.c.title,
            articles.c.published_at,
            comments.c.parent_id,
            comments.c.status,
            comments.c.author_name,
            comments.c.author_email,
            comments.c.author_website,
            comments.c.body_markdown,
            comments.c.created_at,
            comments.c.moderation,
        )
        .join(articles, articles.c.id == comments.c.article_id)
        .where(articles.c.site_id == site_id, comments.c.status.in_(SAMPLED))
        .order_by(comments.c.created_at.desc(), comments.c.id.desc())
        .limit(limit)
    )
    return [
        Sample(
            id=row.id,
            article_id=row.article_id,
            article_slug=row.slug,
            article_title=row.title,
            article_published_at=row.published_at,
            parent_id=row.parent_id,
            status=Status(row.status),
            author_name=row.author_name,
            author_email=row.author_email,
            author_website=row.author_website,
            body=row.body_markdown,
            created_at=row.created_at,
            moderation=_moderation(row.moderation),
        )
        for row in conn.execute(query)
    ]
