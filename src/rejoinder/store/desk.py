"""What the moderators' desk reads and writes: queues, tab counts, histories, transitions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from rejoinder.core.emails import normal_address
from rejoinder.core.models import QUEUE_TABS, Article, QueueFilters, Status
from rejoinder.store.articles import _COLUMNS as ARTICLE_COLUMNS
from rejoinder.store.schema import articles, comments, refused, reports
from rejoinder.store.sites import get_site_settings

PAGE = 50
DEFAULT_REPORTS_TO_QUEUE = 3
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class DeskItem:
    """A comment (or a refused submission) with everything a moderator looks at."""

    kind: str  # "comment" or "refused"
    id: int
    article_id: int | None
    article_slug: str | None
    article_title: str | None
    parent_id: int | None
    number: int
    author_name: str
    author_email: str
    author_website: str | None
    body: str  # the raw text, never stored HTML
    status: Status
    created_at: datetime
    ip_group_hash: str | None
    moderation: dict[str, Any] = field(default_factory=dict)
    featured: bool = False
    report_count: int = 0
    hidden: bool = False
    moderated_at: datetime | None = None
    moderated_by: str | None = None
    imported: bool = False
    pinned: bool = False


@dataclass(frozen=True)
class Parent:
    id: int
    author_name: str
    body: str
    status: Status


def reports_to_queue(conn: Connection, site_id: int) -> int:
    """How many readers' reports put a comment in the Reported queue (site setting)."""
    settings = get_site_settings(conn, site_id)
    value = settings.get("reports_to_queue")
    if value is None and isinstance(settings.get("policy"), dict):
        value = settings["policy"].get("reports_to_queue")
    try:
        number = int(value) if value is not None else DEFAULT_REPORTS_TO_QUEUE
    except (TypeError, ValueError):
        number = DEFAULT_REPORTS_TO_QUEUE
    return max(1, number)


def _site_articles(site_id: int) -> Any:
    return select(articles.c.id).where(articles.c.site_id == site_id)


def _unresolved_reports() -> Any:
    return exists().where(reports.c.comment_id == comments.c.id, reports.c.resolved.is_(False))


def _tab_condition(tab: str, threshold: int, since: datetime) -> Any:
    if tab == "held":  # not those waiting for their writer to confirm the address
        return and_(comments.c.status == Status.HELD.value, comments.c.awaiting_address.is_(False))
    if tab == "reported":
        return and_(
            comments.c.status == Status.PUBLISHED.value,
            comments.c.report_count >= threshold,
            _unresolved_reports(),
        )
    if tab == "published":
        return and_(
            comments.c.status == Status.PUBLISHED.value,
            or_(comments.c.created_at >= since, comments.c.moderated_at >= since),
        )
    return comments.c.status != Status.WITHDRAWN.value  # "all"


def tab_counts(conn: Connection, site_id: int, threshold: int, since: datetime) -> dict[str, int]:
    """Every tab's count in one statement (scalar subqueries), so they agree with each other."""
    in_site = comments.c.article_id.in_(_site_articles(site_id))

    def count(tab: str) -> Any:
        return (
            select(func.count())
            .select_from(comments)
            .where(in_site, _tab_condition(tab, threshold, since))
            .scalar_subquery()
            .label(tab)
        )

    refused_count = (
        select(func.count())
        .select_from(refused)
        .where(refused.c.site_id == site_id)
        .scalar_subquery()
        .label("refused")
    )
    row = conn.execute(
        select(count("held"), count("reported"), count("published"), refused_count, count("all"))
    ).one()
    return {tab: int(row._mapping[tab]) for tab in QUEUE_TABS}


_ITEM_COLUMNS = (
    comments.c.id,
    comments.c.article_id,
    articles.c.slug.label("article_slug"),
    articles.c.title.label("article_title"),
    comments.c.parent_id,
    comments.c.number,
    comments.c.author_name,
    comments.c.author_email,
    comments.c.author_website,
    comments.c.body_markdown.label("body"),
    comments.c.status,
    comments.c.created_at,
    comments.c.ip_group_hash,
    comments.c.moderation,
    comments.c.featured,
    comments.c.report_count,
    comments.c.hidden,
    comments.c.moderated_at,
    comments.c.moderated_by,
    comments.c.imported,
    comments.c.pinned,
)


def _decision(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _item(row: Any) -> DeskItem:
    values = dict(row)
    values["moderation"] = _decision(values["moderation"])
    values["status"] = Status(values["status"])
    return DeskItem(kind="comment", **values)


def _like(column: Any, text: str) -> Any:
    return func.lower(column).contains(text.lower(), autoescape=True)


def list_comments(
    conn: Connection,
    site_id: int,
    tab: str,
    *,
    threshold: int,
    since: datetime,
    cursor: int | None,
    filters: QueueFilters = QueueFilters(),
    limit: int = PAGE,
) -> list[DeskItem]:
    """One page of a comment queue. Held reads oldest first; the others newest first; the
    cursor is the last id shown."""
    oldest_first = tab == "held"
    query = (
        select(*_ITEM_COLUMNS)
        .select_from(comments.join(articles, articles.c.id == comments.c.article_id))
        .where(articles.c.site_id == site_id, _tab_condition(tab, threshold, since))
    )
    if tab == "all":
        if filters.q:
            query = query.where(
                or_(
                    _like(comments.c.body_markdown, filters.q),
                    _like(comments.c.author_name, filters.q),
                    _like(comments.c.author_email, filters.q),
                    _like(articles.c.title, filters.q),
                )
            )
        if filters.email:
            query = query.where(comments.c.email_key == normal_address(filters.email))
        if filters.article:
            query = query.where(articles.c.slug == filters.article)
        if filters.group:
            query = query.where(comments.c.ip_group_hash.startswith(filters.group, autoescape=True))
        if filters.status:
            query = query.where(comments.c.status == filters.status)
        if filters.since:
            query = query.where(comments.c.created_at >= filters.since)
        if filters.until:
            query = query.where(comments.c.created_at < filters.until)
    if cursor is not None:
        query = query.where(comments.c.id > cursor if oldest_first else comments.c.id < cursor)
    order = comments.c.id.asc() if oldest_first else comments.c.id.desc()
    return [_item(row) for row in conn.execute(query.order_by(order).limit(limit)).mappings()]


def list_refused(
    conn: Connection, site_id: int, *, cursor: int | None, limit: int = PAGE
) -> list[DeskItem]:
    """Submissions the pipeline refused, newest first."""
    query = (
        select(
            refused.c.id,
            refused.c.article_id,
            articles.c.slug.label("article_slug"),
            articles.c.title.label("article_title"),
            refused.c.parent_id,
            refused.c.author_name,
            refused.c.author_email,
            refused.c.author_website,
            refused.c.body,
            refused.c.created_at,
            refused.c.ip_group_hash,
            refused.c.moderation,
        )
        .select_from(refused.outerjoin(articles, articles.c.id == refused.c.article_id))
        .where(refused.c.site_id == site_id)
    )
    if cursor is not None:
        query = query.where(refused.c.id < cursor)
    rows = conn.execute(query.order_by(refused.c.id.desc()).limit(limit)).mappings()
    return [
        DeskItem(
            kind="refused",
            number=0,
            status=Status.REFUSED,
            **{**dict(row), "moderation": _decision(row["moderation"])},
        )
        for row in rows
    ]


def parents_of(conn: Connection, ids: Sequence[int]) -> dict[int, Parent]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = conn.execute(
        select(
            comments.c.id, comments.c.author_name, comments.c.body_markdown, comments.c.status
        ).where(comments.c.id.in_(wanted))
    )
    return {
        row.id: Parent(
            id=row.id,
            author_name=row.author_name,
            body=row.body_markdown,
            status=Status(row.status),
        )
        for row in rows
    }


def histories(conn: Connection, site_id: int, emails: Sequence[str]) -> dict[str, dict[str, int]]:
    """For each address, by its normal form: how its comments on the site ended (approved,
    held, refused, rejected), however each was typed. Two grouped queries for a whole page."""
    wanted = sorted({normal_address(e) for e in emails if e})
    if not wanted:
        return {}
    found: dict[str, dict[str, int]] = {
        e: {"approved": 0, "held": 0, "refused": 0, "rejected": 0} for e in wanted
    }
    rows = conn.execute(
        select(comments.c.email_key, comments.c.status, func.count())
        .where(
            comments.c.email_key.in_(wanted),
            comments.c.article_id.in_(_site_articles(site_id)),
        )
        .group_by(comments.c.email_key, comments.c.status)
    )
    names = {"published": "approved", "deleted": "approved", "held": "held", "rejected": "rejected"}
    for address, status, number in rows:
        if status in names:
            found[address][names[status]] += int(number)
    rows = conn.execute(
        select(refused.c.email_key, func.count())
        .where(refused.c.email_key.in_(wanted), refused.c.site_id == site_id)
        .group_by(refused.c.email_key)
    )
    for address, number in rows:
        found[address]["refused"] += int(number)
    return found


@dataclass(frozen=True)
class Target:
    """A comment as an action sees it before acting."""

    id: int
    article_id: int
    site_id: int
    parent_id: int | None
    number: int  # 0 until first published; a published comment held after an edit keeps it
    status: Status
    author_name: str
    author_email: str
    ip_group_hash: str | None
    body: str
    featured: bool
    hidden: bool
    moderated_by: str | None
    pinned: bool = False


def get_target(conn: Connection, comment_id: int) -> Target | None:
    if not 0 < comment_id <= _MAX_ID:
        return None
    row = (
        conn.execute(
            select(
                comments.c.id,
                comments.c.article_id,
                articles.c.site_id,
                comments.c.parent_id,
                comments.c.number,
                comments.c.status,
                comments.c.author_name,
                comments.c.author_email,
                comments.c.ip_group_hash,
                comments.c.body_markdown.label("body"),
                comments.c.featured,
                comments.c.hidden,
                comments.c.moderated_by,
                comments.c.pinned,
            )
            .select_from(comments.join(articles, articles.c.id == comments.c.article_id))
            .where(comments.c.id == comment_id)
        )
        .mappings()
        .first()
    )
    return Target(**{**row, "status": Status(row["status"])}) if row else None


def lock_article_by_id(conn: Connection, article_id: int) -> Article | None:
    """The article, locked until the transaction ends (SQLite holds its lock already)."""
    query = select(*ARTICLE_COLUMNS).where(articles.c.id == article_id)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return Article(**row) if row else None


def transition(
    conn: Connection,
    comment_id: int,
    *,
    from_status: Status,
    to_status: Status,
    by: str,
    now: datetime,
    number: int | None = None,
) -> bool:
    """Move the comment from one status to another only if it is still in the first one;
    False when someone else moved it first."""
    values: dict[str, Any] = {
        "status": to_status.value,
        "moderated_at": now,
        "moderated_by": by[:100],
        "hidden": False,
    }
    if number is not None:
        values["number"] = number
    result = conn.execute(
        update(comments)
        .where(comments.c.id == comment_id, comments.c.status == from_status.value)
        .values(**values)
    )
    return bool(result.rowcount)


def has_unresolved_reports(conn: Connection, comment_id: int) -> bool:
    query = select(
        exists().where(reports.c.comment_id == comment_id, reports.c.resolved.is_(False))
    )
    return bool(conn.execute(query).scalar_one())


def resolve_reports(conn: Connection, comment_id: int) -> int:
    """Mark the comment's open reports reviewed; how many there were."""
    result = conn.execute(
        update(reports)
        .where(reports.c.comment_id == comment_id, reports.c.resolved.is_(False))
        .values(resolved=True)
    )
    return int(result.rowcount or 0)


def mark_reviewed(conn: Connection, comment_id: int, by: str, now: datetime) -> None:
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(moderated_at=now, moderated_by=by[:100], hidden=False)
    )


def set_featured(conn: Connection, comment_id: int, featured: bool) -> bool:
    """Set the flag if it is not set that way already; False when nothing changed."""
    result = conn.execute(
        update(comments)
        .where(comments.c.id == comment_id, comments.c.featured.is_(not featured))
        .values(featured=featured)
    )
    return bool(result.rowcount)


def set_pinned(conn: Connection, comment_id: int, pinned: bool) -> bool:
    """Set the flag if it is not set that way already; False when nothing changed."""
    result = conn.execute(
        update(comments)
        .where(comments.c.id == comment_id, comments.c.pinned.is_(not pinned))
        .values(pinned=pinned)
    )
    return bool(result.rowcount)
