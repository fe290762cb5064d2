"""Use cases of publishing: add articles, import a page dump, list, count. One transaction each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rejoinder.core.emails import normal_address
from rejoinder.core.models import Article, ArticleDraft, Comment, Status
from rejoinder.core.moderation import Verdict
from rejoinder.core.pagedump import PageDump
from rejoinder.core.text import render_article, render_comment
from rejoinder.core.validation import clean_line, clean_text, slugify
from rejoinder.events import ARTICLE_PUBLISHED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import moderation as moderation_store
from rejoinder.store.database import Database
from rejoinder.usecases.moderation import Judgement, Moderator

if TYPE_CHECKING:
    from sqlalchemy import Connection


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
    moderator: Moderator | None = None,
) -> tuple[Article, list[Comment]]:
    """Store an article and its comments as the dump shows them: authors, order, nesting.

    Without a moderator the dump is an archive: every comment is kept as it was, even when
    empty, marked imported. With one, each comment is judged as if newly posted: published,
    held for a moderator (a refusal of an imported comment is held too, so nothing is lost,
    except an empty comment, which is refused), and a reply under a comment that is not
    published waits with it.
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
    bodies = [clean_text(item.body).strip() for item in dump.comments]
    judgements = [
        moderator.check(site_id=site_id, text=body, name=item.author, email="", website="", now=now)
        if moderator
        else None
        for item, body in zip(dump.comments, bodies, strict=True)
    ]
    stored: list[Comment | None] = []
    with db.write() as conn:
        article = article_store.add_article(
            conn, site_id, draft, render_article(draft.body_markdown), now
        )
        published = 0
        for index, (item, body, judgement) in enumerate(
            zip(dump.comments, bodies, judgements, strict=True)
        ):
            parent = None if item.parent_index is None else stored[item.parent_index]
            created = now + timedelta(seconds=index)  # a second apart: page order survives
            name = clean_line(item.author)[:100]
            verdict = judgement.decision.verdict if judgement else Verdict.PUBLISH
            if judgement and verdict is Verdict.REFUSE and not body:
                refused_id = moderation_store.add_refused(
                    conn,
                    site_id=site_id,
                    article_id=article.id,
                    parent_id=parent.id if parent else None,
                    name=name,
                    email="",
                    website=None,
                    body=body,
                    ip_hash=None,
                    ip_group_hash=None,
                    decision=json.loads(judgement.record()),
                    now=created,
                )
                audit_import_verdict(
                    conn, site_id, None, judgement, Verdict.REFUSE, now, refused_id
                )
                stored.append(None)
                continue
            status = Status.PUBLISHED
            if verdict is not Verdict.PUBLISH or (parent and parent.status is not Status.PUBLISHED):
                status = Status.HELD
            number = 0
            if status is Status.PUBLISHED:
                number = comment_store.next_number(conn, article.id, parent.id if parent else None)
                published += 1
            stored.append(
                comment_store.add_comment(
                    conn,
                    article_id=article.id,
                    parent=parent,
                    number=number,
                    name=name,
                    email="",
                    website=None,
                    body_markdown=body,
                    body_html=render_comment(body) if body else "",
                    status=status,
                    created_at=created,
                    imported=True,
                    fingerprint=judgement.fingerprint if judgement else None,
                    moderation=judgement.record() if judgement else None,
                )
            )
            if judgement:
                outcome = Verdict.HOLD if status is Status.HELD else Verdict.PUBLISH
                audit_import_verdict(conn, site_id, stored[-1], judgement, outcome, now)
        article_store.touch_article(conn, article.id, published, now)
        article = article_store.get_article_by_id(conn, article.id)  # type: ignore[assignment]
    assert article is not None
    events.fire(ARTICLE_PUBLISHED, article=article)
    return article, [comment for comment in stored if comment is not None]


def audit_import_verdict(
    conn: Connection,
    site_id: int,
    comment: Comment | None,
    judgement: Judgement,
    outcome: Verdict,
    at: datetime,
    refused_id: int | None = None,
) -> None:
    """An imported comment's verdict goes in the audit log like a posted one's. `outcome` can
    differ from the judgement: a reply waits (held) under a parent that is not published."""
    record = json.loads(judgement.record())
    data: dict[str, Any] = {"scores": record["scores"], "imported": True}
    if not record["reasons"]:  # an empty list quotes nothing: no personal part to keep apart
        data = {"reasons": [], **data}
    if outcome is not judgement.decision.verdict:
        data["verdict"] = judgement.decision.verdict.value
    if refused_id:
        data["refused_id"] = refused_id
    audit_store.add_entry(
        conn,
        at=at,
        actor_kind="machine",
        actor="pipeline",
        action="verdict",
        site_id=site_id,
        comment_id=comment.id if comment else None,
        after=outcome.value,
        data=data,
        personal=audit_store.Personal(
            person=normal_address(comment.author_email) if comment else "",
            comment_id=comment.id if comment else None,
            refused_id=refused_id,
            data={"reasons": record["reasons"]} if record["reasons"] else {},
        ),
    )


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
