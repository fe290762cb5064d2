"""The audit log: entries are added and read, never changed. There is no update or delete here,
and the database refuses them anyway (triggers from migration 0003).

An entry's personal part (a comment's text, a banned address or name, reasons quoting a
text) goes in `audit_personal`, a separate table that erasure and retention delete from
(`store/privacy.py`). The entry keeps a marker naming the fields it moved (`data["personal"]`);
read back, they are filled in while the part exists and say ERASED after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError

from rejoinder.core.errors import Unavailable
from rejoinder.core.models import ERASED, AuditEntry
from rejoinder.store.schema import audit_log, audit_personal

_ADD_ENTRY = insert(audit_log).returning(audit_log.c.id)
_ADD_PERSONAL = insert(audit_personal)
PERSONAL = "personal"  # the data key naming the fields kept in audit_personal


@dataclass(frozen=True)
class Personal:
    """The personal part of an entry: who it is about (an address in normal form, "" when
    unknown), what it quotes (a comment, a refused submission), and the values themselves."""

    person: str
    comment_id: int | None = None
    refused_id: int | None = None
    before: str | None = None
    after: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def fields(self) -> list[str]:
        named = [name for name in ("before", "after") if getattr(self, name) is not None]
        return named + sorted(self.data)


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
    personal: Personal | None = None,
) -> int:
    """Add an entry; `personal` goes in its own erasable row, and the entry names its fields."""
    data = dict(data or {})
    if personal is not None and personal.fields():
        data[PERSONAL] = personal.fields()
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
        "data": json.dumps(data),
    }
    entry_id = int(conn.execute(_ADD_ENTRY, values).scalar_one())
    if personal is not None and personal.fields():
        conn.execute(
            _ADD_PERSONAL,
            {
                "entry_id": entry_id,
                "person": personal.person,
                "comment_id": personal.comment_id,
                "refused_id": personal.refused_id,
                "before": personal.before,
                "after": personal.after,
                "data": json.dumps(personal.data),
            },
        )
    return entry_id


_COLUMNS = (
    *audit_log.c,
    audit_personal.c.entry_id.label("p_entry"),
    audit_personal.c.before.label("p_before"),
    audit_personal.c.after.label("p_after"),
    audit_personal.c.data.label("p_data"),
)
_JOINED = audit_log.outerjoin(audit_personal, audit_personal.c.entry_id == audit_log.c.id)


def _entry(row: Any) -> AuditEntry:
    values = {column.name: row[column.name] for column in audit_log.c}
    data = json.loads(values["data"] or "{}")
    moved = data.get(PERSONAL)
    erased = False
    if isinstance(moved, list):
        present = row["p_entry"] is not None
        erased = not present
        kept = json.loads(row["p_data"] or "{}") if present else {}
        del data[PERSONAL]
        first: dict[str, Any] = {}  # the personal values first, as they were written
        for name in moved:
            if name in ("before", "after"):
                values[name] = row[f"p_{name}"] if present else ERASED
            else:
                first[name] = kept.get(name) if present else ERASED
        data = {**first, **data}
    values["data"] = data
    return AuditEntry(**values, erased=erased)


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
    query = select(*_COLUMNS).select_from(_JOINED)
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
        query = (
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(audit_log.c.id > last)
            .order_by(audit_log.c.id)
        )
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
