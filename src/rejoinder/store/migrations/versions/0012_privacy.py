"""The personal part of audit entries in a table of its own: the audit log stays append-only,
while a comment's text (desk edits), a banned address or name, and reasons quoting a text go
in `audit_personal`, which erasure and retention delete from. Existing entries have those
fields moved out, leaving a marker that names them (`data["personal"]`).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BATCH = 500
APPEND_ONLY = "the audit log is append-only"
_LOG = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("comment_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("before", sa.Text),
    sa.column("after", sa.Text),
    sa.column("data", sa.Text),
)
_PERSONAL = sa.table(
    "audit_personal",
    sa.column("entry_id", sa.Integer),
    sa.column("person", sa.String),
    sa.column("comment_id", sa.Integer),
    sa.column("refused_id", sa.Integer),
    sa.column("before", sa.Text),
    sa.column("after", sa.Text),
    sa.column("data", sa.Text),
)
_COMMENTS = sa.table("comments", sa.column("id", sa.Integer), sa.column("email_key", sa.String))
_REFUSED = sa.table("refused", sa.column("id", sa.Integer), sa.column("email_key", sa.String))


def _open_log(conn: sa.Connection) -> None:
    """Let this migration rewrite the log's rows: the append-only triggers are lifted."""
    if conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")


def _close_log(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def _person(conn: sa.Connection, comment_id: int | None, data: dict[str, Any]) -> str:
    if comment_id is not None:
        key = conn.execute(
            sa.select(_COMMENTS.c.email_key).where(_COMMENTS.c.id == comment_id)
        ).scalar()
        if key:
            return str(key)
    refused_id = data.get("refused_id")
    if isinstance(refused_id, int):
        key = conn.execute(
            sa.select(_REFUSED.c.email_key).where(_REFUSED.c.id == refused_id)
        ).scalar()
        if key:
            return str(key)
    if data.get("kind") == "email" and isinstance(data.get("value"), str):
        return str(data["value"])
    return ""


def _split(row: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(the entry's new values, its personal row), or None when it holds nothing personal."""
    data = json.loads(row.data or "{}")
    if "personal" in data:
        return None
    moved: dict[str, Any] = {}
    kept: dict[str, Any] = {"before": row.before, "after": row.after}
    if row.action == "edit":
        moved = {"before": row.before, "after": row.after}
        kept = {"before": None, "after": None}
    elif row.action == "ban":
        moved = {"after": row.after}
        kept["after"] = None
    moved_data = {key: data.pop(key) for key in ("reasons", "value") if key in data}
    named = [name for name in ("before", "after") if moved.get(name) is not None]
    named += sorted(moved_data)
    if not named:
        return None
    data["personal"] = named
    personal = {
        "entry_id": row.id,
        "comment_id": row.comment_id,
        "refused_id": data.get("refused_id") if isinstance(data.get("refused_id"), int) else None,
        "before": moved.get("before"),
        "after": moved.get("after"),
        "data": json.dumps(moved_data),
    }
    return {**kept, "data": json.dumps(data)}, personal


def upgrade() -> None:
    op.create_table(
        "audit_personal",
        sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("person", sa.String(254), nullable=False, server_default=""),
        sa.Column("comment_id", sa.Integer, nullable=True),
        sa.Column("refused_id", sa.Integer, nullable=True),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_audit_personal_person", "audit_personal", ["person"])
    op.create_index("ix_audit_personal_comment", "audit_personal", ["comment_id"])
    op.create_index("ix_audit_personal_refused", "audit_personal", ["refused_id"])
    conn = op.get_bind()
    _open_log(conn)
    last = 0
    while True:
        rows = conn.execute(
            sa.select(_LOG)
            .where(_LOG.c.id > last, _LOG.c.action.in_(("edit", "ban", "verdict")))
            .order_by(_LOG.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            split = _split(row)
            if split is None:
                continue
            entry, personal = split
            personal["person"] = _person(conn, row.comment_id, json.loads(row.data or "{}"))
            conn.execute(sa.insert(_PERSONAL).values(**personal))
            conn.execute(sa.update(_LOG).where(_LOG.c.id == row.id).values(**entry))
        last = rows[-1].id
    _close_log(conn)


def downgrade() -> None:
    conn = op.get_bind()
    _open_log(conn)
    for part in conn.execute(sa.select(_PERSONAL)).all():
        entry = conn.execute(sa.select(_LOG).where(_LOG.c.id == part.entry_id)).one()
        data = json.loads(entry.data or "{}")
        data.pop("personal", None)
        data.update(json.loads(part.data or "{}"))
        values: dict[str, Any] = {"data": json.dumps(data)}
        if part.before is not None:
            values["before"] = part.before
        if part.after is not None:
            values["after"] = part.after
        conn.execute(sa.update(_LOG).where(_LOG.c.id == part.entry_id).values(**values))
    _close_log(conn)
    for name in (
        "ix_audit_personal_refused",
        "ix_audit_personal_comment",
        "ix_audit_personal_person",
    ):
        op.drop_index(name, table_name="audit_personal")
    op.drop_table("audit_personal")
