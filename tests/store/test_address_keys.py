"""Migration 0008 gives every stored comment and refusal the normal form of its address, as
the program computes it, so a writer's history written before it counts however it is typed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from rejoinder.store import moderation as moderation_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade


def test_the_upgrade_fills_the_normal_form_of_addresses_already_stored(db_url: str) -> None:
    db = Database(db_url, pool_size=1)
    try:
        upgrade(db, "0007")
        now = datetime(2026, 1, 2, tzinfo=UTC).replace(tzinfo=None)
        with db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO sites (id, name, title, created_at) "
                    "VALUES (1, 'default', 'News', :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO articles (id, site_id, slug, title, body_markdown, body_html, "
                    "published_at, created_at, updated_at) "
                    "VALUES (1, 1, 'a', 'A', 'x', 'x', :now, :now, :now)"
                ),
                {"now": now},
            )
            for number, address in enumerate([" Old@Example.ORG", "old@example.org"], 1):
                conn.execute(
                    text(
                        "INSERT INTO comments (article_id, depth, number, author_name, "
                        "author_email, body_markdown, body_html, status, created_at) "
                        "VALUES (1, 0, :n, 'Old', :email, 'x', 'x', 'published', :now)"
                    ),
                    {"n": number, "email": address, "now": now},
                )
            conn.execute(
                text(
                    "INSERT INTO refused (site_id, author_name, author_email, body, "
                    "moderation, created_at) VALUES (1, 'Old', 'OLD@example.org', 'x', '{}', :now)"
                ),
                {"now": now},
            )
        upgrade(db)
        with db.read() as conn:
            keys = set(conn.execute(text("SELECT email_key FROM comments")).scalars())
            refused = set(conn.execute(text("SELECT email_key FROM refused")).scalars())
            history = moderation_store.get_history(conn, 1, "OLD@EXAMPLE.ORG")
        assert keys == refused == {"old@example.org"}
        assert (history.approved, history.refused) == (2, 1)
    finally:
        db.dispose()
