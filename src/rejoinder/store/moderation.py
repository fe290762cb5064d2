"""What moderation reads and writes: bans, a commenter's history and recent activity, refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update

from rejoinder.core.emails import normal_address
from rejoinder.core.models import BanRecord, Status
from rejoinder.core.moderation import Ban, BanKind, History, RecentActivity
from rejoinder.store.schema import articles, bans, comments, refused

_COUNTED = (Status.PUBLISHED.value, Status.HELD.value)
_COUNTS = comments.c.status.in_(_COUNTED)
_ON_SITE = comments.c.article_id.in_(
    select(articles.c.id).where(articles.c.site_id == bindparam("b_site"))
)

# What every judged post reads, built once (building a statement costs more than running
# it on SQLite); the values travel as parameters.
_BANS = select(bans.c.kind, bans.c.value, bans.c.until, bans.c.reason).where(
    bans.c.site_id == bindparam("b_site"),
    or_(bans.c.until.is_(None), bans.c.until > bindparam("b_now")),
)
_HISTORY = (
    select(comments.c.status, func.count())
    .where(comments.c.email_key == bindparam("b_email"), comments.c.imported.is_(False), _ON_SITE)
    .group_by(comments.c.status)
)
_REFUSALS = select(func.count()).where(
    refused.c.site_id == bindparam("b_site"), refused.c.email_key == bindparam("b_email")
)


def _times_of(column: Any) -> Any:
    return (
        select(comments.c.created_at)
        .where(column == bindparam("b_key"), comments.c.created_at > bindparam("b_since"), _COUNTS)
        .order_by(comments.c.created_at.desc())
        .limit(bindparam("b_cap"))
    )


def _top_level_of(column: Any) -> Any:
    return select(func.count()).where(
        column == bindparam("b_key"),
        comments.c.article_id == bindparam("b_article"),
        comments.c.depth == 0,
        _COUNTS,
    )


def _capped_count(condition: Any) -> Any:
    rows = select(comments.c.id).where(condition).limit(bindparam("b_cap")).subquery()
    return select(func.count()).select_from(rows)


_TIMES_BY_IP = _times_of(comments.c.ip_hash)
_TIMES_BY_EMAIL = _times_of(comments.c.email_key)
_TIMES_BY_GROUP = _times_of(comments.c.ip_group_hash)  # through ix_comments_ip_group_created
_TOP_LEVEL_BY_IP = _top_level_of(comments.c.ip_hash)
_TOP_LEVEL_BY_EMAIL = _top_level_of(comments.c.email_key)
_SITE_RECENT = _capped_count((comments.c.created_at > bindparam("b_since")) & _COUNTS & _ON_SITE)
_SAME_TEXT = _capped_count(
    (comments.c.fingerprint == bindparam("b_print"))
    & (comments.c.created_at > bindparam("b_since"))
    & _COUNTS
)
_OWN_TEXTS = (
    select(comments.c.body_markdown)
    .where(
        comments.c.email_key == bindparam("b_email"),
        comments.c.created_at > bindparam("b_since"),
        _COUNTS,
    )
    .order_by(comments.c.created_at.desc())
    .limit(20)
)


def list_bans(conn: Connection, site_id: int, now: datetime) -> tuple[Ban, ...]:
    rows = conn.execute(_BANS, {"b_site": site_id, "b_now": now})
    return tuple(
        Ban(kind=BanKind(row.kind), value=row.value, until=row.until, reason=row.reason)
        for row in rows
    )


def add_ban(
    conn: Connection,
    site_id: int,
    ban: Ban,
    now: datetime,
    created_by: str | None = None,
    note: str = "",
) -> int:
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
                created_by=created_by,
                note=note,
            )
            .returning(bans.c.id)
        ).scalar_one()
    )


_BAN_RECORD = select(
    bans.c.id,
    bans.c.site_id,
    bans.c.kind,
    bans.c.value,
    bans.c.until,
    bans.c.reason,
    bans.c.created_at,
    bans.c.created_by,
    bans.c.note,
)


def list_ban_records(
    conn: Connection, site_id: int, now: datetime, *, include_ended: bool, limit: int
) -> list[BanRecord]:
    """The site's bans, newest first; only those still in force unless `include_ended`."""
    query = _BAN_RECORD.where(bans.c.site_id == site_id)
    if not include_ended:
        query = query.where(or_(bans.c.until.is_(None), bans.c.until > now))
    rows = conn.execute(query.order_by(bans.c.id.desc()).limit(limit)).mappings()
    return [BanRecord(**row) for row in rows]


def get_ban_record(conn: Connection, site_id: int, ban_id: int) -> BanRecord | None:
    """The ban, if it is the site's (an id too big for the column names none)."""
    if not 0 < ban_id <= 2**31 - 1:
        return None
    query = _BAN_RECORD.where(bans.c.id == ban_id, bans.c.site_id == site_id)
    row = conn.execute(query).mappings().first()
    return BanRecord(**row) if row else None


def set_ban_until(conn: Connection, ban_id: int, until: datetime) -> None:
    conn.execute(update(bans).where(bans.c.id == ban_id).values(until=until))


def get_history(conn: Connection, site_id: int, email: str) -> History:
    """How this address's earlier comments on the site ended (imports are not history),
    however each was typed."""
    if not email:
        return History()
    values = {"b_site": site_id, "b_email": normal_address(email)}
    counts = {row[0]: int(row[1]) for row in conn.execute(_HISTORY, values)}
    refusals = conn.execute(_REFUSALS, values).scalar_one()
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
    ip_group_hash: str = "",
    top_level: bool = True,
    surge_cap: int | None = 1000,
    same_text_cap: int | None = 1000,
    times_cap: int = 200,
    group_times_cap: int = 800,
    times_window: timedelta = timedelta(hours=1),
) -> RecentActivity:
    """What the rate and duplicate phases need: indexed queries over the last day at most.

    Counts a phase does not use are skipped (`top_level=False`, a cap of None), and the
    others stop counting one past what the phase compares with, so the cost of a post does
    not grow with the site's traffic. The writer's own times are read newest first, at most
    `times_cap` of them within `times_window` (none when no limit needs them): the rate
    phase compares the newest with the flood interval and the n-th newest with a limit of n.
    The group's times likewise, at most `group_times_cap` of them.
    """
    hour_ago, minute_ago, day_ago = (
        now - timedelta(hours=1),
        now - timedelta(minutes=1),
        now - timedelta(days=1),
    )

    def times(statement: Any, key: str, cap: int = times_cap) -> tuple[datetime, ...]:
        if cap <= 0 or not key:
            return ()
        values = {"b_key": key, "b_since": now - times_window, "b_cap": cap}
        return tuple(conn.execute(statement, values).scalars())

    email = normal_address(email)
    by_ip = times(_TIMES_BY_IP, ip_hash)
    by_email = times(_TIMES_BY_EMAIL, email)
    by_group = times(_TIMES_BY_GROUP, ip_group_hash, group_times_cap)

    def top_level_by(statement: Any, key: str) -> int:
        if not (key and top_level):
            return 0
        return int(conn.execute(statement, {"b_key": key, "b_article": article_id}).scalar_one())

    # One count per key, each through its own index (an OR would scan the whole thread).
    top_count = max(
        top_level_by(_TOP_LEVEL_BY_EMAIL, email), top_level_by(_TOP_LEVEL_BY_IP, ip_hash)
    )
    site_minute = 0
    if surge_cap is not None:
        values = {"b_site": site_id, "b_since": minute_ago, "b_cap": surge_cap + 1}
        site_minute = int(conn.execute(_SITE_RECENT, values).scalar_one())
    own_texts: tuple[str, ...] = ()
    if email:
        values = {"b_email": email, "b_since": day_ago}
        own_texts = tuple(conn.execute(_OWN_TEXTS, values).scalars())
    same_text = 0
    if fingerprint and same_text_cap is not None:
        values = {"b_print": fingerprint, "b_since": hour_ago, "b_cap": same_text_cap + 1}
        same_text = int(conn.execute(_SAME_TEXT, values).scalar_one())
    return RecentActivity(
        by_ip=by_ip,
        by_email=by_email,
        by_group=by_group,
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
                email_key=normal_address(email)[:254],
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
