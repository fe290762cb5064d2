"""What `rejoinder import` brought in: the comments it stored, by their id in the source."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, insert, select

from rejoinder.core.models import Comment
from rejoinder.store.comments import get_comments_by_ids
from rejoinder.store.schema import imported_comments

_CHUNK = 500  # ids per query: well under every backend's parameter limit


def find_imported(
    conn: Connection, article_id: int, source: str, source_ids: Collection[str]
) -> dict[str, Comment]:
    """The comments of the discussion already imported from these source ids, by source id."""
    ids = list(source_ids)
    found: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            select(imported_comments.c.source_id, imported_comments.c.comment_id).where(
                imported_comments.c.article_id == article_id,
                imported_comments.c.source == source,
                imported_comments.c.source_id.in_(ids[start : start + _CHUNK]),
            )
        )
        chunk = {row.comment_id: row.source_id for row in rows}
        found.update(chunk)
    comments = [
        comment
        for start in range(0, len(found), _CHUNK)
        for comment in get_comments_by_ids(conn, list(found)[start : start + _CHUNK])
    ]
    return {found[c.id]: c for c in comments}


def record_imported(
    conn: Connection, comment: Comment, site_id: int, source: str, source_id: str
) -> None:
    conn.execute(
        insert(imported_comments).values(
            article_id=comment.article_id,
            source=source,
            source_id=source_id,
            site_id=site_id,
            comment_id=comment.id,
        )
    )
