"""What is held about an address, read for an export and deleted by an erasure; and the
retention period's purge. Every table that holds something about a person by address is
named once, in HELD_BY_ADDRESS: a new one is one line there, and export, erasure and the
"is anything held" check cover it.

On SQLite every connection runs with `secure_delete` (`store/database.py`), so the bytes of
what goes are overwritten in the file's pages rather than left in free space; `flush` then
folds the write-ahead log into the file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, delete, exists, or_, select, update

from rejoinder.core.models import Status, count_change
from rejoinder.core.privacy import ANONYMOUS, RETAINED, Erased, purged_status, removed_status
from rejoinder.store import articles as article_store
from rejoinder.store.comments import has_shown_replies
from rejoinder.store.database import Database
from rejoinder.store.schema import (
    articles,
    audit_log,
    audit_personal,
    comments,
    discussion_follows,
    mail_recipients,
    notices,
    notify_optouts,
    outbox,
    refused,
    reports,
    verified_addresses,
)

# Each table holding rows about a person, and the column with their address (normal form).
# Comments are handled apart (a comment's place in its thread outlives its writer).
HELD_BY_ADDRESS: tuple[tuple[Table, Column[Any]], ...] = (
    (refused, refused.c.email_key),
    (verified_addresses, verified_addresses.c.address),
    (outbox, outbox.c.recipient),
    (audit_personal, audit_personal.c.person),
    (notices, notices.c.recipient),
    (discussion_follows, discussion_follows.c.recipient),
    (mail_recipients, mail_recipients.c.address),  # after its opt-outs (`erase`)
)

# What a comment holds about its writer, and the empty values that replace it.
_WRITER = {
    "author_email": "",
    "email_key": "",
    "author_website": None,
    "ip_hash": None,
    "ip_group_hash": None,
    "fingerprint": None,
    "notify_replies": False,  # nobody to tell any more
}
_TEXT = {"body_markdown": "", "body_html": "", "moderation": None}


def _plain(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def holds_anything(conn: Connection, key: str) -> bool:
    """Whether any row is about the address `key` (normal form)."""
    if not key:
        return False
    checks = [exists().where(comments.c.email_key == key)]
    checks += [exists().where(column == key) for _table, column in HELD_BY_ADDRESS]
    return bool(conn.execute(select(or_(*checks))).scalar_one())


@dataclass(frozen=True)
class HeldComment:
    """A comment as its writer's export shows it, with where its discussion is."""

    values: dict[str, Any]
    site_id: int
    slug: str
    page_url: str | None
    article_title: str


def comments_of(conn: Connection, key: str) -> list[HeldComment]:
    query = (
        select(
            comments.c.id,
            comments.c.parent_id,
            comments.c.number,
            comments.c.status,
            comments.c.author_name,
            comments.c.author_email,
            comments.c.author_website,
            comments.c.body_markdown,
            comments.c.created_at,
            comments.c.edited_at,
            comments.c.notify_replies,
            comments.c.imported,
            articles.c.site_id,
            articles.c.slug,
            articles.c.page_url,
            articles.c.title,
        )
        .join(articles, articles.c.id == comments.c.article_id)
        .where(comments.c.email_key == key)
        .order_by(comments.c.id)
    )
    found = []
    for row in conn.execute(query).mappings():
        values = {
            str(name): _plain(value)  # plain str: a column's name is a str subclass
            for name, value in row.items()
            if name not in ("site_id", "slug", "page_url", "title")
        }
        found.append(
            HeldComment(values, row["site_id"], row["slug"], row["page_url"], row["title"])
        )
    return found


def rows_of(conn: Connection, key: str) -> dict[str, list[dict[str, Any]]]:
    """Every other table's rows about the address, each as its columns' values."""
    held: dict[str, list[dict[str, Any]]] = {}
    for table, column in HELD_BY_ADDRESS:
        query = select(table).where(column == key)
        if table is audit_personal:  # with what the entry says happened
            query = select(
                audit_personal,
                audit_log.c.created_at,
                audit_log.c.action,
                audit_log.c.actor,
            ).join(audit_log, audit_log.c.id == audit_personal.c.entry_id)
            query = query.where(column == key)
        rows = []
        for row in conn.execute(query).mappings():
            values = {str(name): _plain(value) for name, value in row.items()}
            for name in ("payload", "data", "moderation"):
                if isinstance(values.get(name), str):
                    values[name] = json.loads(values[name])
            rows.append(values)
        held[str(table.name)] = rows
    return held


@dataclass(frozen=True)
class Changed:
    """A comment an erasure changed, for the events that follow it."""

    id: int
    article_id: int
    removed: bool


def erase_person(
    conn: Connection, key: str, *, anonymise: bool, now: datetime
) -> tuple[Erased, list[Changed]]:
    """Erase what is held about the address `key` (normal form): their comments removed (a
    place kept for replies) or anonymised, and every row of HELD_BY_ADDRESS deleted, with the
    personal parts of audit entries that quote their comments or refusals."""
    changed: list[Changed] = []
    mine = conn.execute(
        select(comments.c.id, comments.c.article_id, comments.c.status, comments.c.hidden)
        .where(comments.c.email_key == key)
        .order_by(comments.c.depth.desc(), comments.c.id)  # replies first: then parents
    ).all()
    ids = [row.id for row in mine]
    refused_ids = select(refused.c.id).where(refused.c.email_key == key)
    audit_parts = conn.execute(
        delete(audit_personal).where(
            or_(
                audit_personal.c.comment_id.in_(ids),
                audit_personal.c.refused_id.in_(refused_ids.scalar_subquery()),
            )
        )
    ).rowcount
    for row in mine:
        before = Status(row.status)
        if anonymise:
            values: dict[str, Any] = {**_WRITER, "author_name": ANONYMOUS}
            after = before
        else:
            after = removed_status(before, has_shown_replies(conn, row.id))
            values = {**_WRITER, **_TEXT, "author_name": "", "status": after.value}
        conn.execute(update(comments).where(comments.c.id == row.id).values(**values))
        delta = count_change((before, row.hidden), (after, row.hidden))
        article_store.touch_article(conn, row.article_id, delta, now)
        changed.append(Changed(row.id, row.article_id, removed=not anonymise))
    if ids and not anonymise:  # readers' reports quote what they report
        conn.execute(delete(reports).where(reports.c.comment_id.in_(ids)))
    if ids:  # nobody is told any more of what they wrote
        conn.execute(delete(notices).where(notices.c.comment_id.in_(ids)))
    # Their unsubscriptions name them by the number of their address, which goes next.
    numbered = select(mail_recipients.c.id).where(mail_recipients.c.address == key)
    conn.execute(
        delete(notify_optouts).where(notify_optouts.c.recipient_id.in_(numbered.scalar_subquery()))
    )
    counts: dict[str, int] = {}
    for table, column in HELD_BY_ADDRESS:
        gone = conn.execute(delete(table).where(column == key)).rowcount or 0
        counts[str(table.name)] = gone
    counts["audit_personal"] = counts.get("audit_personal", 0) + (audit_parts or 0)
    return Erased(comments=len(mine), tables=counts), changed


def _expired(before: datetime) -> Any:
    """Held and rejected comments older than `before` that still hold personal data."""
    return and_(
        comments.c.status.in_([status.value for status in RETAINED]),
        comments.c.created_at < before,
        or_(
            comments.c.author_name != "",
            comments.c.author_email != "",
            comments.c.body_markdown != "",
            comments.c.ip_hash.is_not(None),
        ),
    )


def purge_expired(conn: Connection, before: datetime) -> dict[str, int]:
    """Delete the personal data of held and rejected comments and of refused submissions
    made before `before`, with the personal parts of the audit entries about them."""
    expired = select(comments.c.id).where(_expired(before)).scalar_subquery()
    old_refusals = select(refused.c.id).where(refused.c.created_at < before)
    parts = conn.execute(
        delete(audit_personal).where(
            or_(
                audit_personal.c.comment_id.in_(expired),
                audit_personal.c.refused_id.in_(old_refusals.scalar_subquery()),
            )
        )
    ).rowcount
    purged = 0
    for status in RETAINED:
        purged += (
            conn.execute(
                update(comments)
                .where(_expired(before), comments.c.status == status.value)
                .values(
                    **_WRITER,
                    **_TEXT,
                    author_name="",
                    status=purged_status(status).value,
                    awaiting_address=False,
                )
            ).rowcount
            or 0
        )
    refusals = conn.execute(delete(refused).where(refused.c.created_at < before)).rowcount
    return {"comments": purged, "refused": refusals or 0, "audit_personal": parts or 0}


def flush(db: Database) -> None:
    """After an erasure: on SQLite, the write-ahead log copied into the file and emptied, so
    that the pages from before it are overwritten there too (best effort: a reader still
    open may hold the log)."""
    if not db.is_sqlite:
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
