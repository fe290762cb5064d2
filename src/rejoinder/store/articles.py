"""Articles: add, find, list, lock for a write, and keep their counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, insert, select, update

from rejoinder.core.errors import Conflict
from rejoinder.core.models import Article, ArticleDraft
from rejoinder.store.schema import (
    articles,
    comments,
    imported_comments,
    refused,
    reports,
    sites,
)

_COLUMNS = (
    articles.c.id,
    articles.c.site_id,
    articles.c.slug,
    articles.c.title,
    articles.c.dek,
    articles.c.author,
    articles.c.body_markdown,
    articles.c.body_html,
    articles.c.published_at,
    articles.c.comments_open,
    articles.c.source_name,
    articles.c.source_url,
    articles.c.comment_count,
    articles.c.version,
    articles.c.page_id,
    articles.c.page_url,
    articles.c.reopened_at,
)

# Statements of the posting path, built once: building one costs more than running it.
_BY_SLUG = select(*_COLUMNS).where(
    articles.c.site_id == bindparam("b_site"), articles.c.slug == bindparam("b_slug")
)
_BY_SLUG_LOCKED = _BY_SLUG.with_for_update()
_BY_PAGE = select(*_COLUMNS).where(
    articles.c.site_id == bindparam("b_site"), articles.c.page_id == bindparam("b_page")
)
_BY_ID = select(*_COLUMNS).where(articles.c.id == bindparam("b_id"))
_SLUG_TAKEN = select(articles.c.id).where(
    articles.c.site_id == bindparam("b_site"), articles.c.slug == bindparam("b_slug")
)
_ADD = insert(articles).returning(articles.c.id)
_LOCK_SITE = select(sites.c.id).where(sites.c.id == bindparam("b_site")).with_for_update()
_TOUCH = (
    update(articles)
    .where(articles.c.id == bindparam("b_id"))
    .values(
        comment_count=articles.c.comment_count + bindparam("b_delta"),
        version=articles.c.version + 1,
        updated_at=bindparam("b_now", type_=articles.c.updated_at.type),
    )
)


def _article(row: RowMapping) -> Article:
    return Article(**row)


def add_article(
    conn: Connection, site_id: int, draft: ArticleDraft, body_html: str, now: datetime
) -> Article:
    exists = conn.execute(_SLUG_TAKEN, {"b_site": site_id, "b_slug": draft.slug}).first()
    if exists:
        raise Conflict(f"An article with the slug {draft.slug!r} already exists.")
    values = {
        "site_id": site_id,
        "slug": draft.slug,
        "title": draft.title,
        "dek": draft.dek,
        "author": draft.author,
        "body_markdown": draft.body_markdown,
        "body_html": body_html,
        "published_at": draft.published_at,
        "comments_open": draft.comments_open,
        "source_name": draft.source_name,
        "source_url": draft.source_url,
        "comment_count": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "page_id": draft.page_id,
        "page_url": draft.page_url,
    }
    article_id = conn.execute(_ADD, values).scalar_one()
    return get_article_by_id(conn, article_id)  # type: ignore[return-value]


def add_page_article(
    conn: Connection, site_id: int, draft: ArticleDraft, now: datetime
) -> tuple[Article, bool]:
    """The discussion of a page hosted elsewhere, made on its first load, and whether this
    call made it (another request may have made it first). On PostgreSQL the site's row is
    locked for the rest of the transaction: two first loads take turns, not both inserting."""
    assert draft.page_id is not None
    if conn.dialect.name != "sqlite":
        conn.execute(_LOCK_SITE, {"b_site": site_id})
    found = get_article_by_page(conn, site_id, draft.page_id)
    if found is not None:
        return found, False
    return add_article(conn, site_id, draft, "", now), True


def _can_exist(slug: str) -> bool:
    """A slug from a URL with a NUL names no article (PostgreSQL refuses NUL in text)."""
    return "\x00" not in slug


def get_article(conn: Connection, site_id: int, slug: str) -> Article | None:
    if not _can_exist(slug):
        return None
    row = conn.execute(_BY_SLUG, {"b_site": site_id, "b_slug": slug}).mappings().first()
    return _article(row) if row else None


def get_article_by_page(conn: Connection, site_id: int, page_id: str) -> Article | None:
    """The discussion of a page hosted elsewhere, by its page id on the site."""
    if not _can_exist(page_id):
        return None
    row = conn.execute(_BY_PAGE, {"b_site": site_id, "b_page": page_id}).mappings().first()
    return _article(row) if row else None


_MAX_ID = 2**31 - 1  # an id the column cannot hold names no article (as in store.comments)


def get_article_by_id(conn: Connection, article_id: int) -> Article | None:
    if not 0 < article_id <= _MAX_ID:
        return None
    row = conn.execute(_BY_ID, {"b_id": article_id}).mappings().first()
    return _article(row) if row else None


def lock_article(conn: Connection, site_id: int, slug: str) -> Article | None:
    """The article, locked until the transaction ends (SQLite holds its lock already)."""
    if not _can_exist(slug):
        return None
    query = _BY_SLUG if conn.dialect.name == "sqlite" else _BY_SLUG_LOCKED
    row = conn.execute(query, {"b_site": site_id, "b_slug": slug}).mappings().first()
    return _article(row) if row else None


def get_article_version(conn: Connection, site_id: int, slug: str) -> int | None:
    if not _can_exist(slug):
        return None
    return conn.execute(
        select(articles.c.version).where(articles.c.site_id == site_id, articles.c.slug == slug)
    ).scalar_one_or_none()


def list_articles(
    conn: Connection, site_id: int, *, limit: int = 50, offset: int = 0
) -> list[Article]:
    rows = conn.execute(
        select(*_COLUMNS)
        .where(articles.c.site_id == site_id)
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_article(row) for row in rows.mappings()]


def count_articles(conn: Connection, site_id: int) -> int:
    return conn.execute(
        select(func.count()).select_from(articles).where(articles.c.site_id == site_id)
    ).scalar_one()


def count_comments_for(conn: Connection, site_id: int, slugs: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(
        select(articles.c.slug, articles.c.comment_count).where(
            articles.c.site_id == site_id, articles.c.slug.in_([s for s in slugs if _can_exist(s)])
        )
    )
    return {row.slug: row.comment_count for row in rows}


def count_comments_for_pages(
    conn: Connection, site_id: int, page_ids: Sequence[str]
) -> dict[str, int]:
    """The shown comments of the discussions of pages hosted elsewhere, by page id."""
    rows = conn.execute(
        select(articles.c.page_id, articles.c.comment_count).where(
            articles.c.site_id == site_id,
            articles.c.page_id.in_([p for p in page_ids if _can_exist(p)]),
        )
    )
    return {row.page_id: row.comment_count for row in rows}


def touch_article(conn: Connection, article_id: int, count_delta: int, now: datetime) -> None:
    """Record a change to the article's discussion: the count moves, the version goes up."""
    conn.execute(_TOUCH, {"b_id": article_id, "b_delta": count_delta, "b_now": now})


def max_version(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.sum(articles.c.version), 0))).scalar_one())


def set_comments_open(conn: Connection, article_id: int, is_open: bool, now: datetime) -> None:
    """Close or reopen an article's discussion; reopening restarts its close-after-days
    count. The version goes up, so cached pages and threads are made again."""
    values: dict[str, object] = {
        "comments_open": is_open,
        "version": articles.c.version + 1,
        "updated_at": now,
    }
    if is_open:
        values["reopened_at"] = now
    conn.execute(update(articles).where(articles.c.id == article_id).values(values))


def update_article(
    conn: Connection, article_id: int, draft: ArticleDraft, body_html: str, now: datetime
) -> None:
    """Store an edited article's fields; the version goes up, so cached pages are made again."""
    conn.execute(
        update(articles)
        .where(articles.c.id == article_id)
        .values(
            title=draft.title,
            dek=draft.dek,
            author=draft.author,
            body_markdown=draft.body_markdown,
            body_html=body_html,
            published_at=draft.published_at,
            source_name=draft.source_name,
            source_url=draft.source_url,
            version=articles.c.version + 1,
            updated_at=now,
        )
    )


def delete_article(conn: Connection, article_id: int) -> int:
    """Delete an article with its whole discussion: its comments and their reports, the
    submissions refused on it and the record of imported ones. Returns how many comments
    went. (The audit log keeps its entries: it is never changed.)"""
    own = select(comments.c.id).where(comments.c.article_id == article_id)
    conn.execute(delete(reports).where(reports.c.comment_id.in_(own)))
    conn.execute(delete(imported_comments).where(imported_comments.c.article_id == article_id))
    conn.execute(delete(refused).where(refused.c.article_id == article_id))
    # One statement for every comment: a reply and its parent go together, so the
    # references between them are never left dangling when the statement ends.
    gone = conn.execute(delete(comments).where(comments.c.article_id == article_id)).rowcount
    conn.execute(delete(articles).where(articles.c.id == article_id))
    return int(gone or 0)
