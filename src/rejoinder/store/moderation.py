"""What moderation reads and writes: bans, a commenter's history and recent activity, refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select

from rejoinder.core.models import Status
from rejoinder.core.moderation import Ban, BanKind, History, RecentActivity
from rejoinder.store.schema import articles, bans, comments, refused

_COUNTED = (Status.PUBLISHED.value, Status.HELD.value)


def list_bans(conn: Connection, site_id: int, now: datetime) -> tuple[Ban, ...]:
    rows = conn.execute(
        select(bans.c.kind, bans.c.value, bans.c.until, bans.c.reason).where(
            bans.c.site_id == site_id, or_(bans.c.until.is_(None), bans.c.until > now)
        )
    )
    return tuple(
        Ban(kind=BanKind(row.kind), value=row.value, until=row.until, reason=row.reason)
        for row in rows
    )


def add_ban(conn: Connection, site_id: int, ban: Ban, now: datetime) -> int:
    return int(
        conn.execute(
            insert(bans)
            .values(
                site_id=site_id,
                kind=ban.kind.value,
                value=ban.value,
                until=ban.until,
                reason=ban.reason,
                created_at=now,
            )
            .returning(bans.c.id)
        ).scalar_one()
    )


def _site_comments(site_id: int) -> Any:
    return comments.c.article_id.in_(select(articles.c.id).where(articles.c.site_id == site_id))


def get_history(conn: Connection, site_id: int, email: str) -> History:
    """How this email's earlier comments on the site ended (imports are not history)."""
    if not email:
        return History()
    rows = conn.execute(
        select(comments.c.status, func.count())
        .where(
            comments.c.author_email == email,
            comments.c.imported.is_(False),
            _site_comments(site_id),
        )
        .group_by(comments.c.status)
    )
    counts = {row[0]: int(row[1]) for row in rows}
    refusals = conn.execute(
        select(func.count()).where(refused.c.site_id == site_id, refused.c.author_email == email)
    ).scalar_one()
    return History(
        approved=counts.get(Status.PUBLISHED.value, 0) + counts.get(Status.DELETED.value, 0),
        held=counts.get(Status.HELD.value, 0),
        refused=int(refusals),
        rejected=counts.get(Status.REJECTED.value, 0),
    )


def get_recent_activity(
    conn: Connection,
    *,
    site_id: int,
    article_id: int,
    ip_hash: str,
    email: str,
    fingerprint: str,
    now: datetime,
    top_level: bool = True,
    surge_cap: int | None = 1000,
    same_text_cap: int | None = 1000,
    times_cap: int = 200,
    times_window: timedelta = timedelta(hours=1),
) -> RecentActivity:
    """What the rate and duplicate phases need: indexed queries over the last day at most.

    Counts a phase does not use are skipped (`top_level=False`, a cap of None), and the
    others stop counting one past what the phase compares with, so the cost of a post does
    not grow with the site's traffic. The writer's own times are read newest first, at most
    `times_cap` of them within `times_window` (none when no limit needs them): the rate
    phase compares the newest with the flood interval and the n-th newest with a limit of n.
    """
    hour_ago, minute_ago, day_ago = (
        now - timedelta(hours=1),
        now - timedelta(minutes=1),
        now - timedelta(days=1),
    )
    counted = comments.c.status.in_(_COUNTED)

    def times(condition: Any) -> tuple[datetime, ...]:
        if times_cap <= 0:
            return ()
        query = (
            select(comments.c.created_at)
            .where(condition, comments.c.created_at > now - times_window, counted)
            .order_by(comments.c.created_at.desc())
            .limit(times_cap)
        )
        return tuple(conn.execute(query).scalars())

    by_ip = times(comments.c.ip_hash == ip_hash) if ip_hash else ()
    by_email = times(comments.c.author_email == email) if email else ()

    def top_level_by(condition: Any) -> int:
        query = select(func.count()).where(
            condition, comments.c.article_id == article_id, comments.c.depth == 0, counted
        )
        return int(conn.execute(query).scalar_one())

    # One count per key, each through its own index (an OR would scan the whole thread).
    top_count = max(
        top_level_by(comments.c.author_email == email) if email and top_level else 0,
        top_level_by(comments.c.ip_hash == ip_hash) if ip_hash and top_level else 0,
    )

    def capped_count(condition: Any, cap: int) -> int:
        rows = select(comments.c.id).where(condition).limit(cap + 1).subquery()
        return int(conn.execute(select(func.count()).select_from(rows)).scalar_one())

    site_minute = 0
    if surge_cap is not None:
        recent_on_site = (comments.c.created_at > minute_ago) & counted & _site_comments(site_id)
        site_minute = capped_count(recent_on_site, surge_cap)
    own_texts = tuple(
        conn.execute(
            select(comments.c.body_markdown)
            .where(comments.c.author_email == email, comments.c.created_at > day_ago, counted)
            .order_by(comments.c.created_at.desc())
            .limit(20)
        ).scalars()
    ) if email else ()  # fmt: skip
    same_text = 0
    if fingerprint and same_text_cap is not None:
        same = (
            (comments.c.fingerprint == fingerprint) & (comments.c.created_at > hour_ago) & counted
        )
        same_text = capped_count(same, same_text_cap)
    return RecentActivity(
        by_ip=by_ip,
        by_email=by_email,
        top_level_in_thread=int(top_count),
        site_last_minute=int(site_minute),
        own_texts=own_texts,
        same_text_site_wide=int(same_text),
    )


def add_refused(
    conn: Connection,
    *,
    site_id: int,
    article_id: int | None,
    parent_id: int | None,
    name: str,
    email: str,
    website: str | None,
    body: str,
    ip_hash: str | None,
    ip_group_hash: str | None,
    decision: dict[str, Any],
    now: datetime,
) -> int:
    return int(
        conn.execute(
            insert(refused)
            .values(
                site_id=site_id,
                article_id=article_id,
                parent_id=parent_id,
                author_name=name[:100],
                author_email=email[:254],
                author_website=website,
                body=body,
                ip_hash=ip_hash,
                ip_group_hash=ip_group_hash,
                moderation=json.dumps(decision),
                created_at=now,
            )
            .returning(refused.c.id)
        ).scalar_one()
    )


def count_refused(conn: Connection, site_id: int) -> int:
    return int(conn.execute(select(func.count()).where(refused.c.site_id == site_id)).scalar_one())


def purge_refused(conn: Connection, before: datetime) -> int:
    """Delete refusals older than the retention period; returns how many went."""
    result = conn.execute(delete(refused).where(refused.c.created_at < before))
    return int(result.rowcount or 0)
