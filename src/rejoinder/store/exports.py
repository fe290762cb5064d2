"""What `rejoinder export` reads: a site's discussions that have comments, and each one's
comments with their private fields (the export is the site's own data, made by staff), in
date order, with the ids they were imported under from Rejoinder's own format."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Connection, exists, select

from rejoinder.core.models import Article, Comment, Status
from rejoinder.store.articles import get_article_by_id
from rejoinder.store.schema import articles, comments, imported_comments

_COMMENT = select(*(comments.c[f.name] for f in dataclasses.fields(Comment)))


def discussion_ids(conn: Connection, site_id: int, only: int | None = None) -> list[int]:
    """The site's articles with at least one comment, oldest first (`only`: just that one)."""
    query = (
        select(articles.c.id)
        .where(
            articles.c.site_id == site_id,
            exists().where(comments.c.article_id == articles.c.id),
        )
        .order_by(articles.c.id)
    )
    if only is not None:
        query = query.where(articles.c.id == only)
    return list(conn.execute(query).scalars())


def find_discussion(conn: Connection, site_id: int, key: str) -> int | None:
    """A discussion of the site by its page id, else by its slug."""
    for column in (articles.c.page_id, articles.c.slug):
        found = conn.execute(
            select(articles.c.id).where(articles.c.site_id == site_id, column == key)
        ).scalar()
        if found is not None:
            return int(found)
    return None


def read_discussion(
    conn: Connection, article_id: int, source: str
) -> tuple[Article, list[Comment], dict[int, str]]:
    """An article, its comments by date (ids break ties), and the source ids of those
    imported from `source`."""
    article = get_article_by_id(conn, article_id)
    assert article is not None  # listed by discussion_ids in the same transaction
    rows = conn.execute(
        _COMMENT.where(comments.c.article_id == article_id).order_by(
            comments.c.created_at, comments.c.id
        )
    ).mappings()
    found = [Comment(**{**row, "status": Status(row["status"])}) for row in rows]
    sources = conn.execute(
        select(imported_comments.c.comment_id, imported_comments.c.source_id).where(
            imported_comments.c.article_id == article_id, imported_comments.c.source == source
        )
    )
    return article, found, {row.comment_id: row.source_id for row in sources}
