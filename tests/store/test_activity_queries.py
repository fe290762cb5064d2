"""The Activity page's reads on the real database: the same few statements for a week as for
a year, days cut at midnight UTC on either backend, refused edits and imports left out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from rejoinder.core.models import ArticleDraft, Status
from rejoinder.runtime import Runtime, open_runtime
from rejoinder.settings import Settings
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.usecases.activity import read_activity
from tests.conftest import Databases

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def runtime(databases: Databases) -> Iterator[Runtime]:
    """A year of comments on the default site: one a day, every third held and decided the
    next day; a refusal every tenth day, and a refused edit and an imported refusal."""
    made = open_runtime(Settings(database_url=databases.new()))
    site = made.default_site.id
    try:
        with made.db.write() as conn:
            draft = ArticleDraft(
                slug=f"a-{uuid.uuid4().hex[:8]}",
                title="Year",
                dek="",
                author="",
                body_markdown="Text.",
                published_at=NOW - timedelta(days=400),
            )
            article = article_store.add_article(conn, site, draft, "<p>Text.</p>", NOW)

            def add(at: datetime, verdict: str, status: Status) -> int:
                record = json.dumps({"verdict": verdict, "reasons": [], "scores": {}})
                return comment_store.add_comment(
                    conn,
                    article_id=article.id,
                    parent=None,
                    number=0,
                    name="W",
                    email="w@example.org",
                    website=None,
                    body_markdown="x",
                    body_html="<p>x</p>",
                    status=status,
                    created_at=at,
                    moderation=record,
                ).id

            for ago in range(1, 366):
                at = NOW - timedelta(days=ago)
                if ago % 3:
                    add(at, "publish", Status.PUBLISHED)
                else:
                    held = add(at, "hold", Status.PUBLISHED)
                    audit_store.add_entry(
                        conn,
                        at=at + timedelta(days=1),
                        actor_kind="user",
                        actor="m",
                        action="approve",
                        site_id=site,
                        comment_id=held,
                        before=Status.HELD,
                        after=Status.PUBLISHED,
                    )
                if ago % 10 == 0:
                    refusal(conn, site, at, {})
            # Either side of midnight UTC, two days ago.
            midnight = datetime(2026, 6, 28, tzinfo=UTC)
            add(midnight - timedelta(microseconds=1), "publish", Status.PUBLISHED)
            add(midnight, "publish", Status.PUBLISHED)
            add(midnight, "publish", Status.PUBLISHED)
            refusal(conn, site, midnight, {"edit": True}, comment_id=1)
            refusal(conn, site, midnight, {"imported": True})
        yield made
    finally:
        made.close()


def refusal(
    conn: Any, site: int, at: datetime, extra: dict[str, Any], comment_id: int | None = None
) -> None:
    audit_store.add_entry(
        conn,
        at=at,
        actor_kind="machine",
        actor="pipeline",
        action="verdict",
        site_id=site,
        comment_id=comment_id,
        after="refuse",
        data={"reasons": [], "scores": {}, **extra},
    )


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)


def test_a_year_costs_the_same_few_statements_as_a_week(runtime: Runtime) -> None:
    site = runtime.default_site.id
    read_activity(runtime.db, site_id=site, days=7, now=NOW)  # set-up statements first
    with statements(runtime) as week_sql:
        week = read_activity(runtime.db, site_id=site, days=7, now=NOW)
    with statements(runtime) as year_sql:
        year = read_activity(runtime.db, site_id=site, days=365, now=NOW)
    assert len(week.days) == 7 and len(year.days) == 365
    assert len(week_sql) == len(year_sql) <= 6, year_sql
    assert sum(d.published + d.held for d in year.days) == 364 + 3  # the 365th day is today's
    assert sum(d.decisions for d in year.days) == 365 // 3
    assert {d.median_wait_hours for d in year.days if d.decisions} == {24.0}


def test_days_are_cut_at_midnight_utc_and_refused_edits_and_imports_are_left_out(
    runtime: Runtime,
) -> None:
    found = read_activity(runtime.db, site_id=runtime.default_site.id, days=14, now=NOW)
    by_day = {d.day.isoformat(): d for d in found.days}
    # The 27th: its own comment (held, decided the next day) and the one a microsecond
    # before midnight.
    assert (by_day["2026-06-27"].published, by_day["2026-06-27"].held) == (1, 1)
    assert by_day["2026-06-27"].queue == 1
    assert by_day["2026-06-28"].published == 3  # its own and the two at midnight
    assert by_day["2026-06-20"].refused == 1
    assert by_day["2026-06-28"].refused == 0
    assert by_day["2026-06-30"].published == 0  # today, before any comment
