"""Reading a page of a thread costs the same few queries at any size and renders nothing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from rejoinder.core.models import (
    ArticleDraft,
    Comment,
    CommentInput,
    Sort,
    Status,
    ThreadNode,
    ThreadPage,
)
from rejoinder.core.text import render_comment
from rejoinder.runtime import Runtime, open_runtime
from rejoinder.settings import Settings
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store
from rejoinder.store.schema import comments
from rejoinder.usecases import discussion, publishing
from tests.conftest import Databases

PAGE_SIZE = 50
MAX_LEVEL = 5
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    runtime: Runtime
    small: str  # slug of a thread of 10 comments
    large: str  # slug of a thread of 1,000 comments


def _seed_thread(runtime: Runtime, slug: str, size: int) -> None:
    """`size` comments in one transaction: 30% replies, with chains three replies deep.

    Each comment's stored HTML differs on purpose from what its Markdown would render to,
    so a read that rendered Markdown again would show.
    """
    site_id = runtime.default_site.id
    draft = ArticleDraft(
        slug=slug,
        title=f"Thread of {size}",
        dek="",
        author="",
        body_markdown="Body.",
        published_at=START,
    )
    article = publishing.add_article(runtime.db, runtime.events, site_id, draft, START)
    made: list[Comment] = []
    rng = random.Random(size)
    numbers: dict[int | None, int] = {}
    with runtime.db.write() as conn:
        for i in range(size):
            block, place = divmod(i, 10)
            parent: Comment | None = None
            if place in (1, 2):
                parent = made[i - 1]  # a reply, then a reply to the reply
            elif place == 3:
                # Three deep on even blocks; elsewhere a reply to an earlier comment.
                parent = made[i - 1] if block % 2 == 0 else made[rng.randrange(i)]
            key = parent.id if parent else None
            numbers[key] = numbers.get(key, 0) + 1
            made.append(
                comment_store.add_comment(
                    conn,
                    article_id=article.id,
                    parent=parent,
                    number=numbers[key],
                    name=f"Reader {i}",
                    email=f"reader{i}@example.org",
                    website=None,
                    body_markdown=f"Comment *{i}*",
                    body_html=f"<p>stored html of comment {i}</p>",
                    status=Status.PUBLISHED,
                    created_at=START + timedelta(seconds=i),
                )
            )
        article_store.touch_article(conn, article.id, size, START)
    assert sum(1 for c in made if c.parent_id is not None) == size * 3 // 10
    assert max(c.depth for c in made) >= 3


@pytest.fixture(scope="module")
def seeded(databases: Databases) -> Iterator[Seeded]:
    runtime = open_runtime(Settings(database_url=databases.new()))
    try:
        _seed_thread(runtime, "small-thread", 10)
        _seed_thread(runtime, "large-thread", 1000)
        yield Seeded(runtime=runtime, small="small-thread", large="large-thread")
    finally:
        runtime.close()


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)


def _read(
    seeded: Seeded, slug: str, sort: Sort = Sort.OLDEST, cursor: int | None = None
) -> ThreadPage:
    _article, page = discussion.read_thread_page(
        seeded.runtime.db,
        site_id=seeded.runtime.default_site.id,
        slug=slug,
        sort=sort,
        cursor=cursor,
        page_size=PAGE_SIZE,
        max_level=MAX_LEVEL,
    )
    return page


def _flatten(nodes: list[ThreadNode]) -> list[ThreadNode]:
    found: list[ThreadNode] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def _counted_read(
    seeded: Seeded, slug: str, sort: Sort = Sort.OLDEST, cursor: int | None = None
) -> tuple[ThreadPage, list[str]]:
    with statements(seeded.runtime) as seen:
        page = _read(seeded, slug, sort, cursor)
    return page, seen


def test_a_page_costs_the_same_few_queries_whatever_the_thread_size(seeded: Seeded) -> None:
    _read(seeded, seeded.small)  # the first connection may run set-up statements of its own
    small, small_sql = _counted_read(seeded, seeded.small)
    large, large_sql = _counted_read(seeded, seeded.large)
    assert large.next_cursor is not None
    second, second_sql = _counted_read(seeded, seeded.large, cursor=large.next_cursor)
    newest, newest_sql = _counted_read(seeded, seeded.large, Sort.NEWEST)
    assert newest.next_cursor is not None
    newest_two, newest_two_sql = _counted_read(
        seeded, seeded.large, Sort.NEWEST, newest.next_cursor
    )

    counts = [len(small_sql), len(large_sql), len(second_sql), len(newest_sql), len(newest_two_sql)]
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 5, small_sql
    # The pages really are what they claim: the small thread whole, the large one in pages.
    assert len(_flatten(small.nodes)) == 10
    assert small.next_cursor is None
    assert [n.comment.number for n in large.nodes] == list(range(1, PAGE_SIZE + 1))
    assert [n.comment.number for n in second.nodes] == list(range(PAGE_SIZE + 1, 2 * PAGE_SIZE + 1))
    assert large.top_level_total == second.top_level_total == 700
    assert [n.comment.number for n in newest.nodes] == list(range(700, 700 - PAGE_SIZE, -1))
    assert newest_two.nodes[0].comment.number == 700 - PAGE_SIZE
    for page in (large, second, newest, newest_two):
        assert max(node.comment.depth for node in _flatten(page.nodes)) >= 3


def test_a_page_holds_every_reply_of_its_top_level_comments(seeded: Seeded) -> None:
    page = _read(seeded, seeded.large)
    root_ids = [node.comment.id for node in page.nodes]
    with seeded.runtime.db.read() as conn:
        reply_ids = set(
            conn.execute(select(comments.c.id).where(comments.c.root_id.in_(root_ids))).scalars()
        )
    shown = {node.comment.id for node in _flatten(page.nodes)}
    assert shown == set(root_ids) | reply_ids


def test_a_read_returns_the_stored_html_and_renders_nothing(seeded: Seeded) -> None:
    page = _read(seeded, seeded.large)
    nodes = _flatten(page.nodes)
    with seeded.runtime.db.read() as conn:
        rows = conn.execute(
            select(comments.c.id, comments.c.body_markdown, comments.c.body_html).where(
                comments.c.id.in_([node.comment.id for node in nodes])
            )
        ).all()
    stored = {row.id: row for row in rows}
    for node in nodes:
        row = stored[node.comment.id]
        assert node.comment.body_html == row.body_html
        # Had the read rendered the Markdown, it would have produced this instead.
        assert node.comment.body_html != render_comment(row.body_markdown)


def test_a_comment_is_rendered_once_when_it_is_written(seeded: Seeded) -> None:
    runtime = seeded.runtime
    draft = ArticleDraft(
        slug="written-once",
        title="Written once",
        dek="",
        author="",
        body_markdown="Body.",
        published_at=START,
    )
    publishing.add_article(runtime.db, runtime.events, runtime.default_site.id, draft, START)
    raw = CommentInput(
        body="Hello *world*, see [the source](https://example.org/a) <script>x()</script>",
        name="Grace Writer",
        email="grace@example.org",
    )
    posted = discussion.post_comment(
        runtime.db,
        runtime.events,
        site_id=runtime.default_site.id,
        slug="written-once",
        raw=raw,
        limits=runtime.limits,
        now=datetime.now(UTC),
    )
    with runtime.db.read() as conn:
        row = conn.execute(select(comments).where(comments.c.id == posted.comment.id)).one()
    assert row.body_markdown == raw.body
    assert row.body_html == render_comment(raw.body)
    assert "<em>world</em>" in row.body_html
    assert 'rel="nofollow ugc noopener"' in row.body_html
    assert "<script>" not in row.body_html and "&lt;script&gt;" in row.body_html
    [node] = _read(seeded, "written-once").nodes
    assert node.comment.id == posted.comment.id
    assert node.comment.body_html == row.body_html
