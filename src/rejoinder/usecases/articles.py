"""Managing published articles: edit one, delete one with its discussion, publish one as a
staff member. One transaction each, audited with who and what; the article's version goes
up (or it is gone), and `discussion_changed` fires after the commit so that every worker's
cached pages are made again. (Closing and reopening a discussion is `usecases.desk`.)"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from rejoinder.core.articlefile import changed_fields, edited_draft
from rejoinder.core.errors import Invalid, NotFound
from rejoinder.core.models import Article, ArticleDraft
from rejoinder.core.text import render_article
from rejoinder.events import ARTICLE_PUBLISHED, DISCUSSION_CHANGED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store.database import Database
from rejoinder.usecases.desk import Actor, clean_note

# An audit entry keeps each changed field's old and new value up to this many characters (a
# body is long; the log records that it changed, and how long it is).
SHOWN_CHARS = 300


@dataclass(frozen=True)
class Deleted:
    """What a deletion removed."""

    slug: str
    title: str
    comments: int


def get_article(db: Database, site_id: int, slug: str) -> Article:
    with db.read() as conn:
        found = article_store.get_article(conn, site_id, slug)
    if found is None:
        raise NotFound("There is no such article.")
    return found


def _shown(value: object) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def edit_article(
    db: Database,
    events: Events,
    *,
    site_id: int,
    slug: str,
    changes: Mapping[str, str],
    actor: Actor,
    note: str,
    now: datetime,
) -> tuple[Article, list[str]]:
    """Change an article's title, dek, author, body, source or publication time; returns it
    as stored and the names of the fields that changed."""
    note = clean_note(note)
    if not changes:
        raise Invalid("title", "Nothing to change: give at least one field.")
    with db.write() as conn:
        article = article_store.lock_article(conn, site_id, slug)
        if article is None:
            raise NotFound("There is no such article.")
        draft: ArticleDraft = edited_draft(article, changes)
        names = changed_fields(article, draft)
        html = render_article(draft.body_markdown) if draft.body_markdown else ""
        article_store.update_article(conn, article.id, draft, html, now)
        fields = {"body": "body_markdown", "published": "published_at"}
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor.kind,
            actor=actor.name,
            action="article_edit",
            site_id=site_id,
            before=", ".join(names),
            after=draft.title,
            note=note,
            data={
                "article": slug,
                "article_id": article.id,
                "changed": {
                    name: {
                        "before": _shown(getattr(article, fields.get(name, name))),
                        "after": _shown(getattr(draft, fields.get(name, name))),
                    }
                    for name in names
                },
            },
        )
        changed = article_store.get_article_by_id(conn, article.id)
    assert changed is not None
    events.fire(DISCUSSION_CHANGED, article=changed)
    return changed, names


def delete_article(
    db: Database,
    events: Events,
    *,
    site_id: int,
    slug: str,
    actor: Actor,
    note: str,
    now: datetime,
) -> Deleted:
    """Delete an article and its whole discussion (comments, reports, refusals on it)."""
    note = clean_note(note)
    with db.write() as conn:
        article = article_store.lock_article(conn, site_id, slug)
        if article is None:
            raise NotFound("There is no such article.")
        gone = article_store.delete_article(conn, article.id)
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor.kind,
            actor=actor.name,
            action="article_delete",
            site_id=site_id,
            before=article.title[:200],
            after="deleted",
            note=note,
            data={"article": slug, "article_id": article.id, "comments": gone},
        )
    events.fire(DISCUSSION_CHANGED, article=article)
    return Deleted(slug=article.slug, title=article.title, comments=gone)


def publish_article(
    db: Database,
    events: Events,
    *,
    site_id: int,
    draft: ArticleDraft,
    actor: Actor,
    now: datetime,
) -> Article:
    """Publish an article for someone who can be named (an admin's API token, the admin
    token, the CLI): stored and audited in one transaction."""
    with db.write() as conn:
        article = article_store.add_article(
            conn, site_id, draft, render_article(draft.body_markdown), now
        )
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor.kind,
            actor=actor.name,
            action="article_publish",
            site_id=site_id,
            after=article.title[:200],
            data={"article": article.slug, "article_id": article.id},
        )
    events.fire(ARTICLE_PUBLISHED, article=article)
    return article
