"""Discussions of pages Rejoinder does not host: found by site and page id, made on the
page's first load (or only ahead of time, when the site says so), counted by page id.

A page's discussion is an ordinary article row with `page_id` and `page_url` set and an
empty body, so counts, feeds, moderation, the desk and the API treat it as any article.
Whether a request may make one (its Origin is on the site's list) is the web layer's to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rejoinder.core.embed import PageRef, page_draft
from rejoinder.core.errors import Conflict, NotFound
from rejoinder.core.models import Article
from rejoinder.events import ARTICLE_PUBLISHED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database

SETTINGS_KEY = "embed"  # in the site's settings JSON: {"create_on_load": bool}
NOT_YET = "There is no discussion for this page yet."
AHEAD_ONLY = "This site's discussions are made ahead of time, and there is none for this page yet."


def creates_on_load(settings: dict[str, Any]) -> bool:
    """Whether a site makes a page's discussion when the page is first shown (the default),
    rather than only ahead of time through the API or the command line."""
    embed = settings.get(SETTINGS_KEY)
    return not (isinstance(embed, dict) and embed.get("create_on_load") is False)


def open_discussion(
    db: Database,
    events: Events,
    site_id: int,
    ref: PageRef,
    now: datetime,
    *,
    may_create: bool,
) -> Article:
    """The page's discussion, made now if it has none, the caller may make one, and the site
    makes them on load. The title and URL are those of the first load; later loads change
    nothing (a tag cannot rename a discussion)."""
    with db.read() as conn:
        article = article_store.get_article_by_page(conn, site_id, ref.page_id)
        on_load = article is None and creates_on_load(site_store.get_site_settings(conn, site_id))
    if article is not None:
        return article
    if not may_create:
        raise NotFound(NOT_YET)
    if not on_load:
        raise NotFound(AHEAD_ONLY)
    with db.write() as conn:
        article, made = article_store.add_page_article(conn, site_id, page_draft(ref, now), now)
    if made:
        events.fire(ARTICLE_PUBLISHED, article=article)
    return article


def add_discussion(
    db: Database, events: Events, site_id: int, ref: PageRef, now: datetime
) -> Article:
    """A page's discussion made ahead of time (API, command line); 409 if it exists."""
    with db.write() as conn:
        if article_store.get_article_by_page(conn, site_id, ref.page_id) is not None:
            raise Conflict(f"The page {ref.page_id!r} has a discussion already.")
        article = article_store.add_article(conn, site_id, page_draft(ref, now), "", now)
    events.fire(ARTICLE_PUBLISHED, article=article)
    return article


def set_create_on_load(db: Database, site_id: int, create_on_load: bool) -> None:
    """Whether the site makes discussions on a page's first load, or only ahead of time."""
    with db.write() as conn:
        settings = site_store.get_site_settings(conn, site_id)
        settings[SETTINGS_KEY] = {
            **settings.get(SETTINGS_KEY, {}),
            "create_on_load": create_on_load,
        }
        site_store.update_site_settings(conn, site_id, settings)


def site_creates_on_load(db: Database, site_id: int) -> bool:
    with db.read() as conn:
        return creates_on_load(site_store.get_site_settings(conn, site_id))


def count_pages(db: Database, site_id: int, page_ids: Sequence[str]) -> dict[str, int]:
    """Shown comments per page id, in one query; pages without a discussion are left out."""
    with db.read() as conn:
        return article_store.count_comments_for_pages(conn, site_id, page_ids)


def find_discussion(db: Database, site_id: int, page_id: str) -> Article:
    with db.read() as conn:
        article = article_store.get_article_by_page(conn, site_id, page_id)
    if article is None:
        raise NotFound(NOT_YET)
    return article


def set_origins(db: Database, site_id: int, origins: Sequence[str]) -> None:
    """The origins allowed to embed the site (the sites commands set them; tests use this)."""
    with db.write() as conn:
        site_store.set_site_origins(conn, site_id, origins)
