"""A server killed with SIGKILL mid-write loses no acknowledged comment and leaves no torn row."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from rejoinder.store.database import Database
from rejoinder.store.schema import articles, comments
from tests.conftest import Databases, Server

from . import comment_count, comment_payload, walk, whole_thread

RUN_FOR = 1.5  # seconds of posting before the kill
WRITERS = 2
MAX_POSTS = 2000  # per writer; the loop also stops at the first failed request


def test_acknowledged_comments_survive_sigkill(databases: Databases) -> None:
    db_url = databases.new()
    server = Server(db_url, workers=2).start()
    try:
        slug = str(server.publish()["slug"])
        acknowledged: dict[int, str] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def write(writer: int) -> None:
            url = f"/api/v1/articles/{slug}/comments"
            last_top: int | None = None
            with httpx.Client(base_url=server.url, timeout=5) as http:
                for n in range(MAX_POSTS):
                    if stop.is_set():
                        return
                    body = f"Writer {writer} says {n}, durably."
                    # Every third comment replies to this writer's last top-level one.
                    parent = last_top if n % 3 == 2 else None
                    try:
                        response = http.post(url, json=comment_payload(body=body, parent_id=parent))
                    except httpx.TransportError:
                        return  # the server is gone: whatever was in flight is unknown
                    if response.status_code != 201:
                        return
                    made = response.json()
                    with lock:
                        acknowledged[int(made["id"])] = body
                    if parent is None:
                        last_top = int(made["id"])

        threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        # At least RUN_FOR seconds of posting, and on a busy machine until enough comments
        # were acknowledged to prove something (a deadline keeps a broken server from
        # stalling the suite).
        started = time.monotonic()
        while time.monotonic() - started < 60:
            with lock:
                enough = len(acknowledged) > 2 * 10
            if enough and time.monotonic() - started >= RUN_FOR:
                break
            time.sleep(0.05)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        server.stop()
    with lock:
        acked = dict(acknowledged)
    assert len(acked) > 10, "too few comments were acknowledged before the kill to prove much"

    restarted = Server(db_url).start()  # one worker is enough to read it back
    try:
        roots = whole_thread(restarted.url, slug)
        shown = {c["id"]: c for c in walk(roots)}
        missing = sorted(set(acked) - set(shown))
        assert missing == [], f"acknowledged comments lost after SIGKILL: {missing}"
        for comment_id, body in acked.items():
            assert body in shown[comment_id]["body_html"]
        assert comment_count(restarted.url, slug) == len(shown)
        # Numbers stay gap-free: no transaction was half applied.
        assert sorted(r["number"] for r in roots) == list(range(1, len(roots) + 1))
        for node in shown.values():
            numbers = sorted(reply["number"] for reply in node["replies"])
            assert numbers == list(range(1, len(numbers) + 1))
    finally:
        restarted.stop()

    _assert_no_torn_rows(db_url, slug)


def _assert_no_torn_rows(db_url: str, slug: str) -> None:
    db = Database(db_url)
    try:
        with db.read() as conn:
            article: Any = conn.execute(select(articles).where(articles.c.slug == slug)).one()
            rows = conn.execute(select(comments)).all()
            orphans = conn.execute(
                select(func.count())
                .select_from(comments.outerjoin(articles, comments.c.article_id == articles.c.id))
                .where(articles.c.id.is_(None))
            ).scalar_one()
        assert orphans == 0
        assert all(row.article_id == article.id for row in rows)
        published = [row for row in rows if row.status == "published"]
        assert article.comment_count == len(published) == len(rows)
        by_id = {row.id: row for row in rows}
        for row in rows:
            assert row.body_html and row.body_markdown and row.author_name
            if row.parent_id is None:
                assert row.depth == 0 and row.root_id is None
            else:
                parent = by_id[row.parent_id]
                assert row.depth == parent.depth + 1
                assert row.root_id == (parent.root_id or parent.id)
    finally:
        db.dispose()
