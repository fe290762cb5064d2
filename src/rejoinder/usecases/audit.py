"""The audit log as the desk and the CLI read it: a filtered page, or every entry for an export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from rejoinder.core.models import AuditEntry
from rejoinder.store import audit as audit_store
from rejoinder.store.database import Database


def list_entries(
    db: Database,
    *,
    limit: int,
    comment_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    site_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first, filtered; `before_id` pages backwards; `site_id`: that site's entries."""
    with db.read() as conn:
        return audit_store.list_entries(
            conn,
            comment_id=comment_id,
            action=action,
            actor=actor,
            since=since,
            until=until,
            before_id=before_id,
            site_id=site_id,
            limit=limit,
        )


def export_entries(db: Database) -> Iterator[AuditEntry]:
    """Every entry, oldest first, read in one transaction: a consistent snapshot even while
    the server writes. Raises `Unavailable` when the log cannot be read (an unmigrated
    database)."""
    with db.read() as conn:
        yield from audit_store.iter_entries(conn)
