"""What live updates read after a write: a comment as its page now shows it, with the article."""

from __future__ import annotations

from dataclasses import dataclass

from rejoinder.core.errors import NotFound
from rejoinder.core.models import Article, Status, ThreadNode
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store
from rejoinder.store import reports as report_store
from rejoinder.store.database import Database


@dataclass(frozen=True)
class OnPage:
    """The article as it is now (its count) and the comment as its page shows it: None when
    the page no longer shows it (held, withdrawn, hidden by reports, removed with no reply)."""

    article: Article
    node: ThreadNode | None


def comment_on_page(db: Database, comment_id: int, *, max_level: int) -> OnPage:
    """Read in one transaction, placed as `core.threads.build_tree` would place it: at its
    depth up to the last level, and past it at the last level, naming whom it answers."""
    with db.read() as conn:
        comment = comment_store.get_public_comment(conn, comment_id)
        if comment is None:
            raise NotFound("There is no such comment.")
        article = article_store.get_article_by_id(conn, comment.article_id)
        if article is None:
            raise NotFound("There is no such article.")
        state = report_store.get_reportable(conn, comment.id)
        if comment.status is Status.PUBLISHED:
            shown = not (state and state.hidden)
        elif comment.is_deleted:  # "[deleted]" or "[removed]" keeps its place under replies
            shown = comment_store.has_shown_replies(conn, comment.id)
        else:
            shown = False
        last = max_level - 1
        in_reply_to = None
        if shown and comment.depth > last and comment.parent_id is not None:
            parent = comment_store.get_public_comment(conn, comment.parent_id)
            if parent is not None:
                in_reply_to = parent.placeholder if parent.is_deleted else parent.author_name
    if not shown:
        return OnPage(article=article, node=None)
    node = ThreadNode(comment=comment, level=min(comment.depth, last), in_reply_to=in_reply_to)
    return OnPage(article=article, node=node)
