"""Use cases of publishing: add articles, import a page dump, list, count. One transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rejoinder.core.errors import Conflict
from rejoinder.core.models import Article, ArticleDraft, Comment, Site, Status
from rejoinder.core.pagedump import PageDump
from rejoinder.core.text import render_article, render_comment
from rejoinder.core.validation import check_slug, clean_line, clean_text, slugify
from rejoinder.events import ARTICLE_PUBLISHED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database


def add_article(
    db: Database, events: Events, site_id: int, draft: ArticleDraft, now: datetime
) -> Article:
    body_html = render_article(draft.body_markdown)
    with db.write() as conn:
        article = article_store.add_article(conn, site_id, draft, body_html, now)
    events.fire(ARTICLE_PUBLISHED, article=article)
    return article


def import_page(
    db: Database,
    events: Events,
    site_id: int,
    dump: PageDump,
    now: datetime,
    *,
    slug: str | None = None,
    source_url: str | None = None,
) -> tuple[Article, list[Comment]]:
    """Store an article and its comments as the dump shows them: authors, order, nesting.

    Imported comments keep their text as it was, even when empty, and are marked imported;
    nothing is validated away, since the dump is an archive of what was published.
    """
    draft = ArticleDraft(
        slug=slug or slugify(dump.title),
        title=clean_line(dump.title),
        dek=clean_line(dump.dek),
        author="",
        # Page dumps keep non-breaking spaces where links were; they only break lines badly.
        body_markdown=clean_text(dump.body_markdown).replace("\u00a0", " "),
        published_at=now,
        source_name=dump.source_name,
        source_url=source_url,
    )
    stored: list[Comment] = []
    with db.write() as conn:
        article = article_store.add_article(
            conn, site_id, draft, render_article(draft.body_markdown), now
        )
        for index, item in enumerate(dump.comments):
            parent = None if item.parent_index is None else stored[item.parent_index]
            body = clean_text(item.body).strip()
            stored.append(
                comment_store.add_comment(
                    conn,
                    article_id=article.id,
                    parent=parent,
                    number=comment_store.next_number(
                        conn, article.id, parent.id if parent else None
                    ),
                    name=clean_line(item.author)[:100],
                    email="",
                    website=None,
                    body_markdown=body,
                    body_html=render_comment(body) if body else "",
                    status=Status.PUBLISHED,
                    # A second apart, so page order survives any sort by time.
                    created_at=now + timedelta(seconds=index),
                    imported=True,
                )
            )
        article_store.touch_article(conn, article.id, len(stored), now)
        article = article_store.get_article_by_id(conn, article.id)  # type: ignore[assignment]
    assert article is not None
    events.fire(ARTICLE_PUBLISHED, article=article)
    return article, stored


def add_site(db: Database, name: str, title: str, domain: str | None, now: datetime) -> Site:
    """A new site: its own articles, and later its own settings and moderation policy."""
    name = check_slug(name)
    with db.write() as conn:
        if site_store.get_site(conn, name):
            raise Conflict(f"A site named {name!r} exists already.")
        if domain and site_store.get_site_for_host(conn, domain.lower()):
            raise Conflict(f"The domain {domain!r} belongs to another site.")
        return site_store.add_site(conn, name, title, now, domain.lower() if domain else None)


def list_sites(db: Database) -> list[Site]:
    with db.read() as conn:
        return site_store.list_sites(conn)


def list_articles(db: Database, site_id: int, *, limit: int = 50, offset: int = 0) -> list[Article]:
    with db.read() as conn:
        return article_store.list_articles(conn, site_id, limit=limit, offset=offset)


def count_comments(db: Database, site_id: int, slugs: Sequence[str]) -> dict[str, int]:
    """Published comment counts for many articles in one query; unknown slugs are left out."""
    with db.read() as conn:
        return article_store.count_comments_for(conn, site_id, slugs)


def article_feed(
    db: Database, site_id: int, slug: str, limit: int = 50
) -> tuple[Article | None, list]:  # type: ignore[type-arg]
    with db.read() as conn:
        article = article_store.get_article(conn, site_id, slug)
        if article is None:
            return None, []
        return article, comment_store.list_recent_public(conn, article.id, limit)
