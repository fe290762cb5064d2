"""One discussion as an export carries it: which comments go, with which id and parent.

- a withdrawn comment (its writer removed it before any reply) is not shown anywhere, so it
  does not go; a "[deleted]" place holder goes only while some comment that goes replies
  to it (an import drops a place holder with no replies, so the export does too);
- each comment keeps the id it was imported under from Rejoinder's own format, else its
  Rejoinder id, so exporting, importing the file into an empty database and exporting again
  gives the same ids (where two would clash, the Rejoinder id is written `rejoinder-N`);
- a thread is named by its page id only where the page has one of its own (a discussion
  found by its URL is named by the URL alone, as the embed named it), and by its URL where
  it has one (a hosted article's is its address on the site).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rejoinder.core.models import Article, Comment, Status


@dataclass(frozen=True, slots=True)
class ExportedComment:
    comment: Comment
    id: str
    parent: str | None  # the exported id of its parent; None at top level
    parent_number: int  # the parent's Rejoinder id (WXR's comment_parent); 0 at top level


@dataclass(frozen=True, slots=True)
class ExportedThread:
    article: Article
    page_id: str | None
    url: str | None  # None for a page the embed named by its id alone
    address: str  # where the discussion can be read: its page, else Rejoinder's page of it
    title: str
    comments: tuple[ExportedComment, ...]


def _own_page_id(article: Article) -> str | None:
    """The page id the embed gave, or None where the page was known by its URL alone."""
    page_id, url = article.page_id, article.page_url
    if page_id is None:
        return None
    if url and page_id in (url, "url:" + hashlib.sha256(url.encode()).hexdigest()):
        return None
    return page_id


def export_thread(
    article: Article, comments: list[Comment], imported_ids: dict[int, str], address: str
) -> ExportedThread:
    """`comments` in date order; `imported_ids`: Rejoinder id -> the id it was imported
    under from the generic format; `address`: the article's own page, for one Rejoinder
    hosts (a page's discussion has its page's URL)."""
    going = {c.id: c for c in comments if c.status is not Status.WITHDRAWN}
    while True:  # place holders with nothing under them, innermost first
        parents = {c.parent_id for c in going.values()}
        empty = [i for i, c in going.items() if c.status is Status.DELETED and i not in parents]
        if not empty:
            break
        for comment_id in empty:
            del going[comment_id]
    ids: dict[int, str] = {}
    taken = {imported_ids[i] for i in going if i in imported_ids}
    for comment_id in going:
        own = imported_ids.get(comment_id)
        if own is None:
            own = str(comment_id)
            if own in taken:
                own = f"rejoinder-{comment_id}"
            taken.add(own)
        ids[comment_id] = own
    exported = []
    for comment in going.values():
        parent = comment.parent_id if comment.parent_id in going else None
        exported.append(
            ExportedComment(
                comment=comment,
                id=ids[comment.id],
                parent=ids[parent] if parent is not None else None,
                parent_number=parent or 0,
            )
        )
    return ExportedThread(
        article=article,
        page_id=_own_page_id(article),
        url=article.page_url if article.is_embedded else address,
        address=article.page_url or address,
        title=article.title,
        comments=tuple(exported),
    )
