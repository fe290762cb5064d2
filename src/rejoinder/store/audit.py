"""The audit log: entries are added and read, never changed. There is no update or delete here,
and the database refuses them anyway (triggers from migration 0003)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError

from rejoinder.core.errors import Unavailable
from rejoinder.core.models import AuditEntry
from rejoinder.store.schema import audit_log

_ADD_ENTRY = insert(audit_log).returning(audit_log.c.id)


def add_entry(
    conn: Connection,
    *,
    at: datetime,
    actor_kind: str,
    actor: str,
    action: str,
    site_id: int | None = None,
    comment_id: int | None = None,
    before: str | None = None,
    after: str | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> int:
    values = {
        "created_at": at,
        "site_id": site_id,
        "comment_id": comment_id,
        "actor_kind": actor_kind,
        "actor": actor[:100],
        "action": action,
        "before": before,
        "after": after,
        "note": note,
        "data": json.dumps(data or {}),
    }
    return int(conn.execute(_ADD_ENTRY, values).scalar_one())


def _entry(row: Any) -> AuditEntry:
    values = dict(row)
    values["data"] = json.loads(values["data"] or "{}")
    return AuditEntry(**values)


def list_entries(
    conn: Connection,
    *,
    comment_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first, filtered; `before_id` pages backwards."""
    query = select(audit_log)
    for column, value in (
        (audit_log.c.comment_id, comment_id),
        (audit_log.c.action, action),
        (audit_log.c.actor, actor),
        (audit_log.c.site_id, site_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(audit_log.c.created_at >= since)
    if until is not None:
        query = query.where(audit_log.c.created_at < until)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    query = query.order_by(audit_log.c.id.desc()).limit(limit)
    return [_entry(row) for row in conn.execute(query).mappings()]


def iter_entries(conn: Connection, batch: int = 1000) -> Iterator[AuditEntry]:
    """Every entry, oldest first, in batches (for exports). Raises `Unavailable` when the
    log's table is missing."""
    last = 0
    while True:
        query = select(audit_log).where(audit_log.c.id > last).order_by(audit_log.c.id)
        try:
            rows = conn.execute(query.limit(batch)).mappings()
        except DBAPIError as error:
            raise Unavailable(
                f"Could not read the audit log ({type(error).__name__}); "
                "is the database migrated (`rejoinder db upgrade`)?"
            ) from None
        entries = [_entry(row) for row in rows]
        if not entries:
            return
        yield from entries
        last = entries[-1].id


def count_entries(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
