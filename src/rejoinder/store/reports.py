"""Readers' reports on comments: add, count by reader and by address, and hide a comment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from rejoinder.core.errors import Conflict
from rejoinder.core.models import Status
from rejoinder.store.schema import comments, reports

_MAX_ID = 2**31 - 1  # an id the column cannot hold names no comment (as in store.comments)


@dataclass(frozen=True)
class Reportable:
    """What reporting needs to know of a comment."""

    id: int
    article_id: int
    status: Status
    report_count: int
    hidden: bool


@dataclass(frozen=True)
class Report:
    id: int
    comment_id: int
    reason: str
    text: str
    created_at: datetime
    resolved: bool


def get_reportable(conn: Connection, comment_id: int, *, lock: bool = False) -> Reportable | None:
    """The comment's reporting state. With `lock`, its row stays locked until the transaction
    ends (PostgreSQL; SQLite writers already take turns): concurrent reports count in turn."""
    if not 0 < comment_id <= _MAX_ID:
        return None
    query = select(
        comments.c.id,
        comments.c.article_id,
        comments.c.status,
        comments.c.report_count,
        comments.c.hidden,
    ).where(comments.c.id == comment_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    return Reportable(
        id=row["id"],
        article_id=row["article_id"],
        status=Status(row["status"]),
        report_count=int(row["report_count"]),
        hidden=bool(row["hidden"]),
    )


def has_reported(conn: Connection, comment_id: int, reporter: str) -> bool:
    query = select(
        exists().where(reports.c.comment_id == comment_id, reports.c.reporter == reporter)
    )
    return bool(conn.execute(query).scalar_one())


def count_from_address(conn: Connection, comment_id: int, ip_hash: str) -> int:
    """How many reports on this comment came from this (hashed) address."""
    query = select(func.count()).where(
        reports.c.comment_id == comment_id, reports.c.ip_hash == ip_hash
    )
    return int(conn.execute(query).scalar_one())


def recent_from_address(
    conn: Connection, ip_hash: str, since: datetime
) -> tuple[int, datetime | None]:
    """(how many reports this address sent since `since`, the oldest of them)."""
    query = select(func.count(), func.min(reports.c.created_at)).where(
        reports.c.ip_hash == ip_hash, reports.c.created_at > since
    )
    count, oldest = conn.execute(query).one()  # min() keeps the column's type: aware UTC
    return int(count), oldest


class DuplicateReport(Conflict):
    """The same reader reported the same comment twice."""


def add_report(
    conn: Connection,
    *,
    comment_id: int,
    reason: str,
    text: str,
    reporter: str,
    ip_hash: str,
    now: datetime,
) -> int:
    """Store the report and count it on the comment; returns the comment's new count.

    Raises DuplicateReport when this reporter already reported the comment (the unique key
    catches two sends at once that both passed the earlier check)."""
    try:
        conn.execute(
            insert(reports).values(
                comment_id=comment_id,
                reason=reason,
                text=text,
                reporter=reporter,
                ip_hash=ip_hash,
                created_at=now,
                resolved=False,
            )
        )
    except IntegrityError:
        raise DuplicateReport("this reader has reported this comment already") from None
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(report_count=comments.c.report_count + 1)
    )
    query = select(comments.c.report_count).where(comments.c.id == comment_id)
    return int(conn.execute(query).scalar_one())


def hide_comment(conn: Connection, comment_id: int) -> None:
    """Readers stop seeing the comment until a moderator reviews it."""
    conn.execute(update(comments).where(comments.c.id == comment_id).values(hidden=True))


def list_reports(conn: Connection, comment_id: int) -> list[Report]:
    """The comment's reports, oldest first (for the desk: reasons and texts, never who)."""
    query = (
        select(
            reports.c.id,
            reports.c.comment_id,
            reports.c.reason,
            reports.c.text,
            reports.c.created_at,
            reports.c.resolved,
        )
        .where(reports.c.comment_id == comment_id)
        .order_by(reports.c.id)
    )
    return [Report(**dict(row)) for row in conn.execute(query).mappings()]
