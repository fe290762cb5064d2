"""schema.org markup of a discussion, as JSON-LD, for search engines: who wrote each shown
comment, when, its text and what it answers.

Built from `PublicComment`s, which have no email to leak, and from a thread page, which holds
only what readers see: a held comment is never on it, and a removed one (shown as
"[deleted]") is left out here, its replies pointing at it by address only.
"""

from __future__ import annotations

import html
from typing import Any

import nh3

from rejoinder.core.models import Article, PublicComment, ThreadNode, ThreadPage


def plain_text(body_html: str) -> str:
    """A comment's sanitised HTML as plain text: paragraphs and line breaks kept."""
    spaced = body_html.replace("</p>", "</p>\n\n").replace("<br>", "\n")
    return html.unescape(nh3.clean(spaced, tags=set())).strip()


def _iso(comment: PublicComment) -> str:
    return comment.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def _comment(node: ThreadNode, page_url: str, out: list[dict[str, Any]]) -> None:
    c = node.comment
    if not c.is_deleted:
        author: dict[str, Any] = {"@type": "Person", "name": c.author_name}
        if c.author_website:
            author["url"] = c.author_website
        item: dict[str, Any] = {
            "@type": "Comment",
            "@id": f"{page_url}#comment-{c.id}",
            "url": f"{page_url}#comment-{c.id}",
            "author": author,
            "dateCreated": _iso(c),
            "text": plain_text(c.body_html),
        }
        parent = f"#comment-{c.parent_id}" if c.parent_id is not None else ""
        item["parentItem"] = {"@id": page_url + parent}
        out.append(item)
    for child in node.children:
        _comment(child, page_url, out)


def discussion_markup(article: Article, page: ThreadPage, page_url: str) -> dict[str, Any]:
    """The article (or page hosted elsewhere) with the comments of this thread page."""
    comments: list[dict[str, Any]] = []
    for node in page.nodes:
        _comment(node, page_url, comments)
    return {
        "@context": "https://schema.org",
        "@type": "WebPage" if article.is_embedded else "Article",
        "@id": page_url,
        "url": page_url,
        "headline": article.title,
        "commentCount": article.comment_count,
        "comment": comments,
    }
