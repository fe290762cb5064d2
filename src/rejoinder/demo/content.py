"""Load the demo's articles and discussions (files shipped in the package) into a database."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources

from rejoinder.core.articlefile import parse_article_file
from rejoinder.core.models import Status
from rejoinder.core.text import render_article, render_comment
from rejoinder.runtime import Runtime, utcnow
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store


def load_demo(runtime: Runtime) -> list[str]:
    """Add each demo article that is not there yet, with its discussion; return their slugs."""
    package = resources.files("rejoinder.demo")
    added: list[str] = []
    site_id = runtime.default_site.id
    for item in sorted(package.joinpath("articles").iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".md"):
            continue
        draft = parse_article_file(item.read_text(encoding="utf-8"), default_published=utcnow())
        with runtime.db.write() as conn:
            if article_store.get_article(conn, site_id, draft.slug):
                continue
            article = article_store.add_article(
                conn, site_id, draft, render_article(draft.body_markdown), utcnow()
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
            article_store.touch_article(conn, article.id, count, utcnow())
        added.append(draft.slug)
    return added
