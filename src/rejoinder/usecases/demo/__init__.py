"""Load the demo's articles and discussions (the files beside this module) into a database."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING

from rejoinder.core.articlefile import parse_article_file
from rejoinder.core.errors import Refused
from rejoinder.core.models import CommentInput, Status
from rejoinder.core.text import render_article, render_comment
from rejoinder.events import Events
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store
from rejoinder.store.database import Database
from rejoinder.usecases.discussion import post_comment
from rejoinder.usecases.moderation import Moderator

if TYPE_CHECKING:
    from rejoinder.core.models import Limits

_PACKAGE = "rejoinder.usecases.demo"


def load_demo(
    db: Database,
    events: Events,
    *,
    site_id: int,
    limits: Limits,
    moderator: Moderator | None,
    now: datetime,
) -> list[str]:
    """Add each demo article that is not there yet, with its discussion; return their slugs.

    The discussions are stored as published. The comments in `arriving/` are posted after
    them through the moderation pipeline, as a reader's would be, so the desk has a queue to
    show with the pipeline's own reasons (what it publishes is published, what it refuses is
    in the audit log)."""
    package = resources.files(_PACKAGE)
    added: list[str] = []
    for item in sorted(package.joinpath("articles").iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".md"):
            continue
        draft = parse_article_file(item.read_text(encoding="utf-8"), default_published=now)
        with db.write() as conn:
            if article_store.get_article(conn, site_id, draft.slug):
                continue
            article = article_store.add_article(
                conn, site_id, draft, render_article(draft.body_markdown), now
            )
            thread = package.joinpath("discussions", f"{draft.slug}.json")
            stored: dict[str, object] = {}
            count = 0
            if thread.is_file():
                for entry in json.loads(thread.read_text(encoding="utf-8")):
                    parent = stored.get(entry["parent"]) if entry.get("parent") else None
                    parent_id = parent.id if parent is not None else None  # type: ignore[attr-defined]
                    stored[entry["key"]] = comment_store.add_comment(
                        conn,
                        article_id=article.id,
                        parent=parent,  # type: ignore[arg-type]
                        number=comment_store.next_number(conn, article.id, parent_id),
                        name=entry["name"],
                        email=f"{entry['key']}@demo.invalid",
                        website=entry.get("website"),
                        body_markdown=entry["body"],
                        body_html=render_comment(entry["body"]),
                        status=Status.PUBLISHED,
                        created_at=draft.published_at + timedelta(minutes=entry["minutes_after"]),
                    )
                    count += 1
            article_store.touch_article(conn, article.id, count, now)
        if moderator is not None:
            _post_arriving(db, events, site_id, limits, moderator, draft.slug, draft.published_at)
        added.append(draft.slug)
    return added


def _post_arriving(
    db: Database,
    events: Events,
    site_id: int,
    limits: Limits,
    moderator: Moderator,
    slug: str,
    published_at: datetime,
) -> None:
    arriving = resources.files(_PACKAGE).joinpath("arriving", f"{slug}.json")
    if not arriving.is_file():
        return
    for entry in json.loads(arriving.read_text(encoding="utf-8")):
        raw = CommentInput(
            body=entry["body"],
            name=entry["name"],
            email=f"{slug}-{entry['key']}@demo.invalid",
            website=entry.get("website", ""),
        )
        # A refusal is recorded with its reasons in the audit log, as any refusal is.
        with contextlib.suppress(Refused):
            post_comment(
                db,
                events,
                site_id=site_id,
                slug=slug,
                raw=raw,
                limits=limits,
                moderator=moderator,
                now=published_at + timedelta(minutes=entry["minutes_after"]),
            )
